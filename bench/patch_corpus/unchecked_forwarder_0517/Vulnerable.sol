pragma solidity 0.5.17;

/// Payment forwarder: senders route payments through it to any recipient and the operator keeps a
/// 1% fee; each forward returns the amount delivered.
contract Forwarder {
    address payable public operator;
    uint256 public fees;
    mapping(address => uint256) public delivered;

    event Forwarded(address indexed from, address indexed to, uint256 amount);

    constructor() public {
        operator = msg.sender;
    }

    function forward(address payable to) external payable returns (uint256 amount) {
        require(msg.value >= 100, "too small");
        uint256 fee = msg.value / 100;
        amount = msg.value - fee;
        fees += fee;
        delivered[to] += amount;
        to.call.value(amount)("");
        emit Forwarded(msg.sender, to, amount);
    }

    function collectFees() external {
        require(msg.sender == operator, "operator");
        fees = 0;
        operator.transfer(address(this).balance);
    }
}
