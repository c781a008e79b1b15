pragma solidity 0.5.17;

interface IQuiz {
    function enter() external payable;
}

/// A team's shared wallet: it logs every receipt, which needs more than a plain transfer's gas.
contract TeamWallet {
    uint256 public received;

    function play(IQuiz quiz) external payable {
        quiz.enter.value(msg.value)();
    }

    function () external payable {
        received += msg.value;
    }
}
