pragma solidity 0.5.17;

/// Voucher desk: the operator quotes how many vouchers one ether buys and may requote at any time;
/// buyers get msg.value * rate / 1 ether vouchers at the quote in force.
contract VoucherDesk {
    address payable public operator;
    uint256 public rate;
    mapping(address => uint256) public vouchers;

    constructor(uint256 _rate) public {
        operator = msg.sender;
        rate = _rate;
    }

    function requote(uint256 newRate) external {
        require(msg.sender == operator, "operator");
        rate = newRate;
    }

    function buy() external payable {
        uint256 amount = msg.value * rate / 1 ether;
        require(amount > 0, "too little");
        vouchers[msg.sender] += amount;
    }

    function sweep() external {
        require(msg.sender == operator, "operator");
        operator.transfer(address(this).balance);
    }
}
