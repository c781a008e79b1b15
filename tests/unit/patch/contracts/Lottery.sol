pragma solidity 0.6.12;

/// A raffle: the ticket's outcome comes from the previous blockhash; the draw deadline is a clock.
contract Lottery {
    address public owner;
    uint256 public rounds;
    uint256 public deadline;

    constructor() public payable {
        owner = msg.sender;
        deadline = block.timestamp + 1 days;
    }

    function play(uint256 pick) external payable {
        require(msg.value == 0.1 ether, "stake");
        require(block.timestamp < deadline, "closed");
        rounds += 1;
        uint256 draw = uint256(keccak256(abi.encodePacked(blockhash(block.number - 1), msg.sender))) % 10;
        if (draw == pick) {
            msg.sender.transfer(0.5 ether);
        }
    }

    function extend() external {
        require(msg.sender == owner, "owner");
        deadline = block.timestamp + 1 days;
    }
}
