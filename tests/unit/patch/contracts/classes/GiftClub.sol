pragma solidity 0.5.17;

/// Members leave with their savings (paid before they are cleared) and may gift savings to any
/// other member; only the owner may take the fees.
contract GiftClub {
    struct Member {
        uint256 balance;
        bool active;
    }

    address payable public owner;
    uint256 public fees;
    mapping(address => Member) public members;

    constructor() public {
        owner = msg.sender;
    }

    function save() public payable {
        members[msg.sender].active = true;
        members[msg.sender].balance += msg.value;
    }

    function gift(address friend, uint256 amount) public {
        require(members[friend].active && friend != msg.sender);
        require(members[msg.sender].balance >= amount);
        members[msg.sender].balance -= amount;
        members[friend].balance += amount;
    }

    function takeFees() public {
        require(msg.sender == owner);
        members[owner].balance += fees;
        fees = 0;
    }

    function leave() public {
        Member storage m = members[msg.sender];
        uint256 amount = m.balance;
        (bool ok, ) = msg.sender.call.value(amount)("");
        require(ok);
        m.balance = 0;
        m.active = false;
    }
}
