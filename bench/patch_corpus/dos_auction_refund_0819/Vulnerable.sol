pragma solidity 0.8.19;

error AuctionClosed();
error BidTooLow(uint256 needed);
error NotSeller();

/// English auction for one lot: each higher bid returns the previous bid to its bidder at once.
contract LotAuction {
    address payable public immutable seller;
    uint256 public immutable endsAt;
    address payable public highestBidder;
    uint256 public highestBid;
    bool public settled;

    event NewBid(address indexed bidder, uint256 amount);
    event Settled(address indexed winner, uint256 amount);

    constructor(uint256 reserve, uint256 duration) {
        seller = payable(msg.sender);
        highestBid = reserve;
        endsAt = block.timestamp + duration;
    }

    function bid() external payable {
        if (block.timestamp >= endsAt) revert AuctionClosed();
        uint256 needed = highestBid + highestBid / 20;
        if (msg.value < needed) revert BidTooLow(needed);
        address payable previous = highestBidder;
        uint256 refund = highestBid;
        highestBidder = payable(msg.sender);
        highestBid = msg.value;
        if (previous != address(0)) {
            (bool ok, ) = previous.call{value: refund}("");
            require(ok, "refund failed");
        }
        emit NewBid(msg.sender, msg.value);
    }

    function settle() external {
        if (msg.sender != seller) revert NotSeller();
        require(block.timestamp >= endsAt && !settled, "not now");
        settled = true;
        emit Settled(highestBidder, highestBid);
        seller.transfer(highestBid);
    }
}
