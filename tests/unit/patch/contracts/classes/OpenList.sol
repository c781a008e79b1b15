pragma solidity 0.5.17;

/// Anyone may add a tier and edit one; only the owner moves the treasury.
contract OpenList {
    address public owner;
    address public treasury;
    uint256[] public tiers;

    constructor() public {
        owner = msg.sender;
    }

    function setTreasury(address t) public {
        require(msg.sender == owner);
        treasury = t;
    }

    function addTier(uint256 volume) public {
        tiers.push(volume);
    }

    function updateTier(uint256 i, uint256 volume) public {
        require(i < tiers.length);
        tiers[i] = volume;
    }

    function updateTreasury(address t) public {
        treasury = t;
    }
}
