pragma solidity 0.4.25;

/// Bonus club: anyone buys tickets at one finney each; the organiser splits every bonus pool equally
/// over all tickets sold, and holders withdraw what they have earned.
contract BonusClub {
    address public organiser;
    address[] public tickets;
    mapping(address => uint256) public earned;
    uint256 public payouts;
    uint256 public constant PRICE = 1 finney;

    constructor() public {
        organiser = msg.sender;
    }

    function ticketCount() public constant returns (uint256) {
        return tickets.length;
    }

    function buy() public payable {
        require(msg.value == PRICE);
        tickets.push(msg.sender);
    }

    function payBonus() public payable {
        require(msg.sender == organiser && tickets.length > 0);
        var share = msg.value / tickets.length;
        for (var i = 0; i < tickets.length; i++) {
            earned[tickets[i]] += share;
        }
        payouts += 1;
    }

    function withdraw() public {
        var amount = earned[msg.sender];
        require(amount > 0);
        earned[msg.sender] = 0;
        msg.sender.transfer(amount);
    }
}
