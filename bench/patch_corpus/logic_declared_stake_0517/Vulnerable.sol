pragma solidity 0.5.17;

/// Even-or-odd table: players stake up to 1 ether on even or odd before the croupier's next spin;
/// a winning stake is paid back twice.
contract EvenOddTable {
    struct Bet {
        address payable player;
        bool even;
        uint256 stake;
        uint256 round;
        bool settled;
    }

    address public croupier;
    uint256 public round = 1;
    mapping(uint256 => uint8) public spun;
    Bet[] public bets;

    event Placed(uint256 indexed id, address player, bool even, uint256 stake);
    event Settled(uint256 indexed id, uint256 paid);

    constructor() public payable {
        croupier = msg.sender;
    }

    function() external payable {}

    function place(bool even, uint256 stake) external payable returns (uint256 id) {
        require(stake > 0 && stake <= 1 ether, "stake");
        id = bets.length;
        bets.push(Bet(msg.sender, even, stake, round, false));
        emit Placed(id, msg.sender, even, stake);
    }

    function spin(uint8 number) external {
        require(msg.sender == croupier, "croupier");
        spun[round] = number;
        round += 1;
    }

    function settle(uint256 id) external {
        Bet storage b = bets[id];
        require(b.round < round && !b.settled, "open");
        b.settled = true;
        uint256 paid = 0;
        if ((spun[b.round] % 2 == 0) == b.even) {
            paid = b.stake * 2;
            b.player.transfer(paid);
        }
        emit Settled(id, paid);
    }

    function betCount() external view returns (uint256) {
        return bets.length;
    }
}
