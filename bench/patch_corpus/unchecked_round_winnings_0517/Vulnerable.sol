pragma solidity 0.5.17;

/// Weekly quiz: players pay the entry fee, the host names the round's winner, who is sent the pot
/// less the host's tenth, and the next round starts at once. Winnings that are owed and not yet
/// paid can be claimed by the winner at any time.
contract QuizRounds {
    address payable public host;
    uint256 public round;
    uint256 public pot;
    uint256 public hostEarnings;
    uint256 public constant FEE = 0.1 ether;
    mapping(address => uint256) public winnings;
    mapping(uint256 => mapping(address => bool)) public entered;

    event RoundClosed(uint256 round, address winner, uint256 prize, bool delivered);

    constructor() public {
        host = msg.sender;
        round = 1;
    }

    function enter() external payable {
        require(msg.value == FEE && !entered[round][msg.sender]);
        entered[round][msg.sender] = true;
        pot += msg.value;
    }

    function closeRound(address payable winner) external {
        require(msg.sender == host && entered[round][winner]);
        uint256 cut = pot / 10;
        hostEarnings += cut;
        winnings[winner] += pot - cut;
        pot = 0;
        round += 1;
        uint256 amount = winnings[winner];
        winnings[winner] = 0;
        bool delivered = winner.send(amount);
        emit RoundClosed(round - 1, winner, amount, delivered);
    }

    function claimWinnings() external {
        uint256 amount = winnings[msg.sender];
        require(amount > 0);
        winnings[msg.sender] = 0;
        msg.sender.transfer(amount);
    }

    function collectEarnings() external {
        require(msg.sender == host);
        uint256 amount = hostEarnings;
        hostEarnings = 0;
        host.transfer(amount);
    }
}
