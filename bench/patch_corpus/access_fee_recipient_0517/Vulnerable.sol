pragma solidity 0.5.17;

/// Second-hand ticket booth: sellers list a ticket at a price, buyers pay it, the booth keeps a
/// fee (in basis points) that is paid out to the fee recipient.
contract TicketBooth {
    struct Listing {
        address payable seller;
        address holder;
        uint256 price;
        bool sold;
    }

    address public owner;
    address payable public feeRecipient;
    uint256 public feeBps;
    uint256 public feesOwed;
    Listing[] public listings;

    event Listed(uint256 indexed id, address seller, uint256 price);
    event Sold(uint256 indexed id, address buyer, uint256 price);

    modifier onlyOwner() {
        require(msg.sender == owner);
        _;
    }

    constructor(uint256 _feeBps) public {
        owner = msg.sender;
        feeRecipient = msg.sender;
        feeBps = _feeBps;
    }

    function setFee(uint256 bps) public onlyOwner {
        require(bps <= 1000);
        feeBps = bps;
    }

    function setFeeRecipient(address payable recipient) public {
        require(recipient != address(0));
        feeRecipient = recipient;
    }

    function transferOwnership(address newOwner) public onlyOwner {
        owner = newOwner;
    }

    function list(uint256 price) public returns (uint256 id) {
        require(price > 0);
        id = listings.length;
        listings.push(Listing(msg.sender, msg.sender, price, false));
        emit Listed(id, msg.sender, price);
    }

    function buy(uint256 id) public payable {
        Listing storage l = listings[id];
        require(!l.sold && msg.value == l.price);
        l.sold = true;
        l.holder = msg.sender;
        uint256 fee = (l.price * feeBps) / 10000;
        feesOwed += fee;
        l.seller.transfer(l.price - fee);
        emit Sold(id, msg.sender, l.price);
    }

    function withdrawFees() public {
        uint256 amount = feesOwed;
        feesOwed = 0;
        feeRecipient.transfer(amount);
    }

    function holderOf(uint256 id) public view returns (address) {
        return listings[id].holder;
    }
}
