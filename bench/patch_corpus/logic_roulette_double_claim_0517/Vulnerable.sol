pragma solidity 0.5.17;

/// Table roulette: players bet on a number (0-36) for the next spin; the croupier announces the
/// wheel's result and winners collect 36 times their stake.
contract Roulette {
    struct Bet {
        address payable player;
        uint8 number;
        uint256 stake;
        uint256 round;
    }

    address public croupier;
    uint256 public round;
    mapping(uint256 => uint8) public result;
    Bet[] public bets;

    event BetPlaced(uint256 indexed id, address indexed player, uint8 number, uint256 stake);
    event Spun(uint256 indexed round, uint8 number);
    event Paid(uint256 indexed id, address indexed player, uint256 amount);

    constructor() public payable {
        croupier = msg.sender;
        round = 1;
    }

    function() external payable {}

    function bet(uint8 number) external payable returns (uint256 id) {
        require(number <= 36, "number");
        require(msg.value > 0 && msg.value <= 1 ether, "stake");
        id = bets.length;
        bets.push(Bet(msg.sender, number, msg.value, round));
        emit BetPlaced(id, msg.sender, number, msg.value);
    }

    function spin(uint8 number) external {
        require(msg.sender == croupier, "croupier");
        require(number <= 36, "number");
        result[round] = number;
        emit Spun(round, number);
        round += 1;
    }

    function collect(uint256 id) external {
        Bet storage b = bets[id];
        require(b.round < round, "not spun");
        require(result[b.round] == b.number, "lost");
        uint256 amount = b.stake * 36;
        emit Paid(id, b.player, amount);
        b.player.transfer(amount);
    }

    function betCount() external view returns (uint256) {
        return bets.length;
    }
}
