pragma solidity 0.5.17;

interface IQueue {
    function stake() external payable;
    function requestRedeem(uint256 amount) external;
}

/// Joins the queue, then refuses the payout.
contract Plug {
    function enter(IQueue q) external payable {
        q.stake.value(msg.value)();
        q.requestRedeem(msg.value);
    }
}
