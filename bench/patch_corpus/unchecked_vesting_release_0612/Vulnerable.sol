pragma solidity 0.6.12;

/// Linear vesting of ether to one beneficiary; anyone may trigger the release of what has vested.
contract EtherVesting {
    address payable public immutable beneficiary;
    uint256 public immutable start;
    uint256 public immutable duration;
    uint256 public released;
    uint256 public total;

    event Released(uint256 amount);

    constructor(address payable _beneficiary, uint256 _duration) public payable {
        beneficiary = _beneficiary;
        start = block.timestamp;
        duration = _duration;
        total = msg.value;
    }

    function vested() public view returns (uint256) {
        if (block.timestamp >= start + duration) {
            return total;
        }
        return (total * (block.timestamp - start)) / duration;
    }

    function release() external {
        uint256 amount = vested() - released;
        require(amount > 0, "nothing vested");
        released += amount;
        beneficiary.call{value: amount}("");
        emit Released(amount);
    }
}
