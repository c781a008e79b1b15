pragma solidity 0.4.25;

/// Quarter-minute jackpot: every play costs one ether and goes into the jackpot; a play made in a
/// block whose time falls on a quarter minute takes the whole jackpot.
contract QuarterJackpot {
    address public house;
    uint256 public plays;
    uint256 public wins;

    event Played(address player, uint256 at, bool won);

    function QuarterJackpot() public payable {
        house = msg.sender;
    }

    function play() public payable {
        if (msg.value != 1 ether) throw;
        plays += 1;
        bool won = now % 15 == 0;
        Played(msg.sender, now, won);
        if (won) {
            wins += 1;
            msg.sender.transfer(this.balance);
        }
    }

    function jackpot() public view returns (uint256) {
        return this.balance;
    }
}
