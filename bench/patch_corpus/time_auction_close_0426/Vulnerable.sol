pragma solidity 0.4.26;

/// English auction for one lot: bids run for an hour from the start; outbid bidders withdraw their
/// bids; after the end anyone may close it and the seller is paid the highest bid.
contract LotAuction {
    address public seller;
    uint256 public endTime;
    address public leader;
    uint256 public leadingBid;
    bool public closed;
    mapping(address => uint256) public refunds;

    constructor(uint256 duration) public {
        seller = msg.sender;
        endTime = now + duration;
    }

    function bid() public payable {
        require(now < endTime);
        require(msg.value > leadingBid);
        if (leader != address(0)) {
            refunds[leader] += leadingBid;
        }
        leader = msg.sender;
        leadingBid = msg.value;
    }

    function withdrawRefund() public {
        uint256 amount = refunds[msg.sender];
        require(amount > 0);
        refunds[msg.sender] = 0;
        msg.sender.transfer(amount);
    }

    function close() public {
        require(now >= endTime);
        require(!closed);
        closed = true;
        seller.transfer(leadingBid);
    }
}
