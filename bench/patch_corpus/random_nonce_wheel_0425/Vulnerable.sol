pragma solidity 0.4.25;

/// Number wheel: a spin costs 0.1 ether and names a number from 0 to 9; the wheel stops on a
/// number mixed from the player and the spin count, and the right number pays 0.9 ether.
contract NumberWheel {
    address public owner;
    uint256 public spins;
    uint256 public wins;

    event Spun(address player, uint8 guess, uint8 result);

    function NumberWheel() public payable {
        owner = msg.sender;
    }

    function () public payable {}

    function spin(uint8 guess) public payable {
        if (msg.value != 100 finney || guess >= 10) throw;
        spins += 1;
        uint8 result = uint8(uint256(sha3(msg.sender, spins)) % 10);
        Spun(msg.sender, guess, result);
        if (result == guess) {
            wins += 1;
            msg.sender.transfer(900 finney);
        }
    }

    function withdraw(uint256 amount) public {
        if (msg.sender != owner) throw;
        owner.transfer(amount);
    }
}
