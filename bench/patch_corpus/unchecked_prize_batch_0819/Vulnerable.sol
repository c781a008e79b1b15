pragma solidity 0.8.19;

/// Tournament prize pool: the organiser records the final standings and the pool pays the top
/// places in one batch. Each place is paid once.
contract PrizePool {
    address public immutable organiser;
    address payable[] public standings;
    uint256[] public prizes;
    mapping(address => bool) public prizeSent;

    event PrizeSent(address indexed player, uint256 place, uint256 amount);

    constructor(uint256[] memory prizes_) payable {
        organiser = msg.sender;
        prizes = prizes_;
    }

    function record(address payable[] calldata finalStandings) external {
        require(msg.sender == organiser, "organiser");
        require(standings.length == 0, "recorded");
        for (uint256 i = 0; i < finalStandings.length && i < prizes.length; i++) {
            standings.push(finalStandings[i]);
        }
    }

    function distribute() external {
        for (uint256 i = 0; i < standings.length; i++) {
            address payable player = standings[i];
            if (prizeSent[player]) continue;
            prizeSent[player] = true;
            player.send(prizes[i]);
            emit PrizeSent(player, i + 1, prizes[i]);
        }
    }
}
