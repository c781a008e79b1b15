pragma solidity 0.4.25;

/// Cashback card: every purchase earns 5% cashback, paid out of the shop's reserve; whatever
/// cashback has accrued to a customer is paid out first, before any of their card actions.
contract CashbackCard {
    address public shop;
    mapping(address => uint256) public cashback;
    mapping(address => uint256) public spent;
    uint256 public purchases;

    modifier settlesCashback() {
        uint256 due = cashback[msg.sender];
        if (due > 0) {
            if (!msg.sender.call.value(due)()) throw;
            cashback[msg.sender] = 0;
        }
        _;
    }

    constructor() public payable {
        shop = msg.sender;
    }

    function () public payable {}

    function purchase() public payable settlesCashback {
        require(msg.value > 0);
        spent[msg.sender] += msg.value;
        cashback[msg.sender] += msg.value / 20;
        purchases += 1;
    }

    function cashOut() public settlesCashback {}

    function sweep(uint256 amount) public {
        if (msg.sender != shop) throw;
        shop.transfer(amount);
    }
}
