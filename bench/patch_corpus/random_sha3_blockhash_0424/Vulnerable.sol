pragma solidity 0.4.24;

/// Lucky number: stake 0.1 ether on a number from 0 to 9; the right number pays eight stakes.
contract LuckyNumber {
    address public croupier;
    uint256 public plays;
    uint256 public wins;
    uint256 public constant STAKE = 100 finney;

    event Played(address player, uint8 guess, uint8 drawn);

    constructor() public payable {
        croupier = msg.sender;
    }

    function () public payable {}

    function play(uint8 guess) public payable {
        if (msg.value != STAKE || guess > 9) throw;
        var seed = sha3(block.blockhash(block.number - 1), now, plays);
        var drawn = uint8(uint256(seed) % 10);
        plays++;
        Played(msg.sender, guess, drawn);
        if (guess == drawn) {
            wins++;
            msg.sender.transfer(STAKE * 8);
        }
    }

    function withdraw(uint256 amount) public {
        if (msg.sender != croupier) throw;
        croupier.transfer(amount);
    }
}
