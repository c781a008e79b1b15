pragma solidity 0.6.12;

interface ILedger {
    function deposit() external payable;
}

contract Spammer {
    function spam(address ledger, uint256 times) external payable {
        for (uint256 i = 0; i < times; i++) {
            ILedger(ledger).deposit{value: 1}();
        }
    }
}
