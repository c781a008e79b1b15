pragma solidity 0.4.24;

contract Wallet {
    address public owner;
    mapping(address => uint256) public balances;

    function Walet() public {
        owner = msg.sender;
    }

    function deposit() public payable {
        balances[msg.sender] += msg.value;
    }

    function pay(address to, uint256 amount) public {
        require(tx.origin == owner);
        to.send(amount);
    }
}
