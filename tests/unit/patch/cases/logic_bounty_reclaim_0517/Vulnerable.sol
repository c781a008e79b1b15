pragma solidity 0.5.17;

/// Bounty board: a poster escrows a reward, then either awards it to a hunter or reclaims it.
contract BountyBoard {
    struct Bounty {
        address payable poster;
        address payable hunter;
        uint256 reward;
        bool paid;
        bool reclaimed;
    }

    Bounty[] public bounties;

    function post() external payable returns (uint256 id) {
        require(msg.value > 0, "reward");
        id = bounties.length;
        bounties.push(Bounty(msg.sender, address(0), msg.value, false, false));
    }

    function award(uint256 id, address payable hunter) external {
        Bounty storage b = bounties[id];
        require(msg.sender == b.poster && !b.paid && !b.reclaimed, "award");
        b.paid = true;
        b.hunter = hunter;
        hunter.transfer(b.reward);
    }

    function reclaim(uint256 id) external {
        Bounty storage b = bounties[id];
        require(msg.sender == b.poster && !b.reclaimed, "reclaim");
        b.reclaimed = true;
        b.poster.transfer(b.reward);
    }
}
