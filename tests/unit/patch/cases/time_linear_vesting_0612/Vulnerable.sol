pragma solidity 0.6.12;

/// Linear vesting of ether grants: a grant vests evenly over its duration from the moment it is
/// made; the beneficiary may release what has vested at any time.
contract LinearVesting {
    struct Grant {
        uint256 total;
        uint256 released;
        uint256 start;
        uint256 duration;
    }

    mapping(address => Grant) public grants;

    function grant(address beneficiary, uint256 duration) external payable {
        require(grants[beneficiary].total == 0 && msg.value > 0 && duration > 0, "grant");
        grants[beneficiary] = Grant(msg.value, 0, block.timestamp, duration);
    }

    function vested(address who) public view returns (uint256) {
        Grant storage g = grants[who];
        uint256 elapsed = block.timestamp - g.start;
        if (elapsed >= g.duration) {
            return g.total;
        }
        return (g.total * elapsed) / g.duration;
    }

    function release() external {
        Grant storage g = grants[msg.sender];
        uint256 amount = vested(msg.sender) - g.released;
        require(amount > 0, "nothing");
        g.released += amount;
        msg.sender.transfer(amount);
    }
}
