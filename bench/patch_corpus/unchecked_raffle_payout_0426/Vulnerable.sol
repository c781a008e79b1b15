pragma solidity 0.4.26;

/// Charity raffle: tickets cost 0.1 ether; the organiser names the winner (drawn off-chain in
/// public) and anyone may then pay the prize out. Half of the pot goes to the winner.
contract CharityRaffle {
    address public organiser;
    address public charity;
    address public winner;
    uint256 public pot;
    bool public prizePaid;
    mapping(address => uint256) public tickets;

    constructor(address _charity) public {
        organiser = msg.sender;
        charity = _charity;
    }

    function buy() public payable {
        require(winner == address(0) && msg.value > 0 && msg.value % 0.1 ether == 0);
        tickets[msg.sender] += msg.value / 0.1 ether;
        pot += msg.value;
    }

    function announce(address who) public {
        require(msg.sender == organiser && winner == address(0) && tickets[who] > 0);
        winner = who;
    }

    function payPrize() public {
        require(winner != address(0) && !prizePaid);
        prizePaid = true;
        winner.call.value(pot / 2)();
    }

    function payCharity() public {
        require(prizePaid);
        charity.transfer(address(this).balance);
    }
}
