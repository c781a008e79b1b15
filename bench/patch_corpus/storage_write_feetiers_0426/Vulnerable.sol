pragma solidity 0.4.26;

/// Fee splitter for a small exchange: trading fees accumulate here and are swept to the treasury.
/// Market makers keep a public list of volume tiers they quote at.
contract FeeCollector {
    address public owner;
    address public treasury;
    uint256 public swept;
    uint256[] public tiers;

    constructor(address _treasury) public {
        owner = msg.sender;
        treasury = _treasury;
    }

    function () public payable {}

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

    function dropTier() public {
        tiers.length -= 1;
    }

    function tierCount() public view returns (uint256) {
        return tiers.length;
    }

    function sweep() public {
        uint256 amount = address(this).balance;
        swept += amount;
        treasury.transfer(amount);
    }
}
