pragma solidity 0.6.12;

/// Two-step lottery ticket: a bet names a byte and is settled against the hash of the block after
/// the bet; a matching byte pays 200 times the stake.
contract ByteLottery {
    struct Ticket {
        uint8 guess;
        uint256 stake;
        uint256 targetBlock;
        bool settled;
    }

    address public operator;
    mapping(address => Ticket) public tickets;
    uint256 public open;

    constructor() public payable {
        operator = msg.sender;
    }

    receive() external payable {}

    function bet(uint8 guess) external payable {
        require(msg.value > 0 && msg.value <= 0.1 ether, "stake");
        Ticket storage t = tickets[msg.sender];
        require(t.stake == 0 || t.settled, "pending");
        tickets[msg.sender] = Ticket(guess, msg.value, block.number + 1, false);
        open += 1;
    }

    function settle() external {
        Ticket storage t = tickets[msg.sender];
        require(t.stake > 0 && !t.settled, "no ticket");
        require(block.number > t.targetBlock, "too early");
        t.settled = true;
        open -= 1;
        uint8 drawn = uint8(uint256(blockhash(t.targetBlock)));
        if (drawn == t.guess) {
            msg.sender.transfer(t.stake * 200);
        }
    }
}
