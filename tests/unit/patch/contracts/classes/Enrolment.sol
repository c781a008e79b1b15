pragma solidity 0.4.25;

/// A club: anyone joins for free; members move their own credit; the owner books bonuses.
contract OpenClub {
    address public owner;
    mapping(address => bool) public members;
    mapping(address => uint) public credit;

    constructor() public {
        owner = msg.sender;
    }

    function join() public {
        members[msg.sender] = true;
    }

    function deposit() public payable {
        credit[msg.sender] += msg.value;
    }

    function move(address to, uint amount) public {
        require(members[msg.sender] && credit[msg.sender] >= amount);
        credit[msg.sender] -= amount;
        credit[to] += amount;
    }

    function bonus(address to, uint amount) public {
        require(msg.sender == owner);
        credit[to] += amount;
    }

    function withdraw(uint amount) public {
        require(credit[msg.sender] >= amount);
        credit[msg.sender] -= amount;
        msg.sender.transfer(amount);
    }
}

/// Treasurers set the fee and sweep the fees; anyone can make themselves a treasurer.
contract SelfAppointed {
    address public owner;
    mapping(address => bool) public treasurers;
    uint public fee;

    constructor() public {
        owner = msg.sender;
    }

    function appoint() public {
        treasurers[msg.sender] = true;
    }

    function setFee(uint newFee) public {
        require(treasurers[msg.sender] || msg.sender == owner);
        fee = newFee;
    }

    function pay() public payable {
        require(msg.value >= fee);
    }

    function sweep(address to) public {
        require(treasurers[msg.sender]);
        to.transfer(address(this).balance);
    }
}

/// Anyone can add themselves as an operator, and operators set the price only the owner sets otherwise.
contract SelfOperator {
    address public owner;
    mapping(address => bool) public operators;
    uint public price;

    constructor() public {
        owner = msg.sender;
    }

    function enlist() public {
        operators[msg.sender] = true;
    }

    function reprice(uint newPrice) public {
        require(operators[msg.sender]);
        price = newPrice;
    }

    function setPrice(uint newPrice) public {
        require(msg.sender == owner);
        price = newPrice;
    }
}
