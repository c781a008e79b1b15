pragma solidity 0.7.6;

/// Descending-price sale of one item: the price starts high and falls every second to a floor.
/// The first buyer to pay the current price wins; overpayment is returned.
contract DutchAuction {
    address payable public immutable seller;
    uint256 public immutable startPrice;
    uint256 public immutable floorPrice;
    uint256 public immutable dropPerSecond;
    uint256 public immutable startedAt;
    address public buyer;
    uint256 public paid;

    constructor(uint256 _startPrice, uint256 _floorPrice, uint256 _dropPerSecond) {
        seller = msg.sender;
        startPrice = _startPrice;
        floorPrice = _floorPrice;
        dropPerSecond = _dropPerSecond;
        startedAt = block.timestamp;
    }

    function currentPrice() public view returns (uint256) {
        uint256 drop = (block.timestamp - startedAt) * dropPerSecond;
        if (drop >= startPrice - floorPrice) {
            return floorPrice;
        }
        return startPrice - drop;
    }

    function buy() external payable {
        require(buyer == address(0), "sold");
        uint256 price = currentPrice();
        require(msg.value >= price, "price");
        buyer = msg.sender;
        paid = price;
        seller.transfer(price);
        if (msg.value > price) {
            msg.sender.transfer(msg.value - price);
        }
    }
}
