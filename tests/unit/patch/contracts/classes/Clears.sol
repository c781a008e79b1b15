pragma solidity 0.4.24;

/// Two lists emptied as a whole: one anyone grows, one only the owner grows.
contract Clears {
    address public owner;
    address[] public entrants;
    address[] public staff;
    uint256 public rounds;

    constructor() public {
        owner = msg.sender;
    }

    function enter() public payable {
        require(msg.value == 0.01 ether);
        entrants.push(msg.sender);
    }

    function hire(address who) public {
        require(msg.sender == owner);
        staff.push(who);
    }

    function newRound() public {
        require(msg.sender == owner);
        delete entrants;
        rounds += 1;
    }

    function dismissAll() public {
        require(msg.sender == owner);
        staff.length = 0;
    }
}
