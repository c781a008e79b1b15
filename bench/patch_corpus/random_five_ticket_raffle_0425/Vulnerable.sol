pragma solidity 0.4.25;

/// Five-ticket raffle: tickets cost 0.2 ether; the fifth ticket sold draws the round's winner,
/// who receives 0.9 ether; the house keeps 0.1 ether a round.
contract FiveTicketRaffle {
    address public house;
    address[] public tickets;
    uint256 public rounds;
    uint256 public houseTake;
    uint256 public constant PRICE = 200 finney;

    event Drawn(uint256 round, address winner);

    function FiveTicketRaffle() public {
        house = msg.sender;
    }

    function buy() public payable {
        if (msg.value != PRICE) throw;
        tickets.push(msg.sender);
        if (tickets.length == 5) {
            var index = uint256(sha3(now, msg.sender)) % 5;
            address winner = tickets[index];
            delete tickets;
            rounds += 1;
            houseTake += 100 finney;
            Drawn(rounds, winner);
            winner.transfer(900 finney);
        }
    }

    function sold() public view returns (uint256) {
        return tickets.length;
    }

    function collect() public {
        if (msg.sender != house) throw;
        uint256 amount = houseTake;
        houseTake = 0;
        house.transfer(amount);
    }
}
