pragma solidity 0.4.25;

/// Last bidder's pot: each bid must beat the best bid so far and goes into the pot; once an hour
/// passes without a new bid, the last bidder may take the pot.
contract LastBidderPot {
    address public leader;
    uint256 public best;
    uint256 public lastBid;
    uint256 public round;

    event Bid(address bidder, uint256 amount);
    event Won(address winner, uint256 amount);

    function LastBidderPot() public payable {
        round = 1;
        lastBid = now;
    }

    function bid() public payable {
        if (msg.value <= best) throw;
        leader = msg.sender;
        best = msg.value;
        lastBid = now;
        Bid(msg.sender, msg.value);
    }

    function claim() public {
        if (msg.sender != leader) throw;
        if (now - lastBid < 1 hours) throw;
        uint256 amount = this.balance;
        leader = address(0);
        best = 0;
        round += 1;
        lastBid = now;
        Won(msg.sender, amount);
        msg.sender.transfer(amount);
    }
}
