pragma solidity 0.5.17;

/// Weekly jackpot: every entry pays 0.1 ether and guesses a number below 100; a right guess takes
/// the whole jackpot. The number is drawn fresh for every entry.
contract Jackpot {
    address public organiser;
    uint256 public entries;
    uint256 public jackpot;

    event Entered(address indexed player, uint256 guess, uint256 drawn);
    event Won(address indexed player, uint256 amount);

    constructor() public payable {
        organiser = msg.sender;
        jackpot = msg.value;
    }

    function draw() private view returns (uint256) {
        return uint256(keccak256(abi.encodePacked(block.coinbase, block.timestamp, block.number, entries))) % 100;
    }

    function enter(uint256 guess) external payable {
        require(msg.value == 0.1 ether, "price");
        require(guess < 100, "range");
        jackpot += msg.value;
        uint256 drawn = draw();
        entries += 1;
        emit Entered(msg.sender, guess, drawn);
        if (drawn == guess) {
            uint256 amount = jackpot;
            jackpot = 0;
            emit Won(msg.sender, amount);
            msg.sender.transfer(amount);
        }
    }
}
