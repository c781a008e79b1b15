pragma solidity 0.4.25;

/// Members sign themselves up; only members move credit, only the owner books bonuses, and a
/// withdrawal pays before it clears the credit.
contract SignUp {
    address public owner;
    mapping(address => bool) public registered;
    mapping(address => uint) public credit;

    constructor() public {
        owner = msg.sender;
    }

    function register() public payable {
        require(msg.value == 0.01 ether);
        registered[msg.sender] = true;
        credit[owner] += msg.value;
    }

    function transfer(address to, uint amount) public {
        require(registered[msg.sender] && credit[msg.sender] >= amount);
        credit[msg.sender] -= amount;
        credit[to] += amount;
    }

    function bonus(address to, uint amount) public {
        require(msg.sender == owner);
        credit[to] += amount;
    }

    function withdraw() public {
        uint amount = credit[msg.sender];
        if (!msg.sender.call.value(amount)()) throw;
        credit[msg.sender] = 0;
    }
}
