pragma solidity 0.5.17;

/// Charity auction: each bid must beat the leading bid by a tenth; the previous leader is refunded
/// at once, less a 2% donation. The organiser ends the auction and collects bid and donations.
contract CharityAuction {
    address payable public organiser;
    address payable public leader;
    uint256 public topBid;
    uint256 public bids;
    uint256 public donations;
    bool public ended;

    constructor() public {
        organiser = msg.sender;
    }

    function bid() external payable {
        require(!ended, "ended");
        require(msg.value > 0 && msg.value >= topBid + topBid / 10, "too low");
        if (leader != address(0)) {
            donations += topBid / 50;
            require(leader.send(topBid - topBid / 50), "refund failed");
        }
        leader = msg.sender;
        topBid = msg.value;
        bids += 1;
    }

    function end() external {
        require(msg.sender == organiser && !ended, "organiser only");
        ended = true;
        organiser.transfer(topBid + donations);
    }
}
