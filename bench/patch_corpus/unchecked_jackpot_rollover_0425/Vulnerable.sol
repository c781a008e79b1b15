pragma solidity 0.4.25;

/// Daily jackpot: tickets cost 0.1 ether, a tenth of every ticket goes to the house. When the day
/// is over anyone may close the round: the player holding the most tickets (the earliest among
/// equals) wins the whole pot, and the next round starts at once.
contract DailyJackpot {
    address public operator;
    uint public round;
    uint public endsAt;
    uint public houseCut;
    uint public roundsClosed;
    address public lastWinner;
    address[] public players;
    mapping(uint => mapping(address => uint)) public ticketsOf;

    constructor() public {
        operator = msg.sender;
        round = 1;
        endsAt = now + 1 days;
    }

    function enter() public payable {
        if (now >= endsAt || msg.value == 0 || msg.value % 0.1 ether != 0) throw;
        if (ticketsOf[round][msg.sender] == 0) players.push(msg.sender);
        ticketsOf[round][msg.sender] += msg.value / 0.1 ether;
        houseCut += msg.value / 10;
    }

    function pot() public view returns (uint) {
        return this.balance - houseCut;
    }

    function close() public {
        if (now < endsAt) throw;
        address winner;
        uint best;
        for (uint i = 0; i < players.length; i++) {
            var t = ticketsOf[round][players[i]];
            if (t > best) {
                best = t;
                winner = players[i];
            }
        }
        if (winner != address(0)) {
            lastWinner = winner;
            winner.send(pot());
        }
        delete players;
        round += 1;
        roundsClosed += 1;
        endsAt = now + 1 days;
    }

    function takeHouseCut() public {
        if (msg.sender != operator) throw;
        uint amount = houseCut;
        houseCut = 0;
        operator.transfer(amount);
    }
}
