pragma solidity 0.4.25;

/// Club treasury with a two-step hand-over of ownership: the owner nominates a successor, who
/// then accepts.
contract ClubTreasury {
    address public owner;
    address public nominee;
    mapping(address => uint256) public dues;

    event Nominated(address who);
    event OwnershipAccepted(address previous, address next);

    constructor() public {
        owner = msg.sender;
    }

    function payDues() public payable {
        require(msg.value > 0);
        dues[msg.sender] += msg.value;
    }

    function nominate(address who) public {
        require(msg.sender == owner);
        nominee = who;
        emit Nominated(who);
    }

    function acceptOwnership() public {
        require(nominee != address(0));
        emit OwnershipAccepted(owner, msg.sender);
        owner = msg.sender;
        nominee = address(0);
    }

    function spend(address to, uint256 amount) public {
        require(msg.sender == owner);
        to.transfer(amount);
    }
}
