pragma solidity 0.4.24;

/// Community suggestion box with a tip jar. Anyone may post, amend or retract suggestions;
/// the owner collects the tips.
contract SuggestionBox {
    address public owner;
    uint256[] public suggestions;
    uint256 public tips;

    event Suggested(address indexed from, uint256 index, uint256 text);

    constructor() public {
        owner = msg.sender;
    }

    function tip() public payable {
        tips += msg.value;
    }

    function suggest(uint256 text) public {
        suggestions.push(text);
        emit Suggested(msg.sender, suggestions.length - 1, text);
    }

    function amend(uint256 index, uint256 text) public {
        require(index < suggestions.length);
        suggestions[index] = text;
    }

    function retract() public {
        suggestions.length--;
    }

    function count() public view returns (uint256) {
        return suggestions.length;
    }

    function collect() public {
        require(msg.sender == owner);
        tips = 0;
        msg.sender.transfer(address(this).balance);
    }
}
