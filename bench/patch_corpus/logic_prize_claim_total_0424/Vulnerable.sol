pragma solidity 0.4.24;

/// Prize desk: the organiser awards prizes to winners; a winner claims what they have been
/// awarded. The desk keeps a running total of what it has paid out.
contract PrizeDesk {
    address public organiser;
    mapping(address => uint256) public prize;
    uint256 public totalAwarded;
    uint256 public totalPaid;
    uint256 public claims;

    event Awarded(address winner, uint256 amount);
    event Claimed(address winner, uint256 amount);

    function PrizeDesk() public payable {
        organiser = msg.sender;
    }

    function () public payable {}

    function award(address winner, uint256 amount) public {
        if (msg.sender != organiser) throw;
        prize[winner] += amount;
        totalAwarded += amount;
        Awarded(winner, amount);
    }

    function claim() public {
        uint256 amount = prize[msg.sender];
        if (amount == 0) throw;
        totalPaid += amount;
        claims += 1;
        Claimed(msg.sender, amount);
        msg.sender.transfer(amount);
    }
}
