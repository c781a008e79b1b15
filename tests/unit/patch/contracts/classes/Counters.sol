pragma solidity 0.4.24;

/// Loops over a members list the owner keeps: one with a `var` counter, others typed.
contract Counters {
    address public owner;
    address[] public members;
    uint8[] public small;
    mapping(address => uint256) public points;

    constructor() public {
        owner = msg.sender;
    }

    function add(address who) public {
        require(msg.sender == owner);
        members.push(who);
    }

    function award(uint256 each) public {
        require(msg.sender == owner);
        for (var i = 0; i < members.length; i++) {
            points[members[i]] += each;
        }
    }

    function awardTyped(uint256 each) public {
        require(msg.sender == owner);
        for (uint256 i = 0; i < members.length; i++) {
            points[members[i]] += each;
        }
    }

    function awardFew(uint8 count, uint256 each) public {
        require(msg.sender == owner);
        for (var i = 0; i < count; i++) {
            points[members[i]] += each;
        }
    }
}
