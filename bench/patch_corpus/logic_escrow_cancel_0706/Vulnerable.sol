pragma solidity 0.7.6;

/// Marketplace escrow shared by all orders: the buyer pays in, the seller ships, the buyer releases
/// the payment to the seller. A buyer may cancel an order that has not shipped.
contract OrderEscrow {
    struct Order {
        address payable buyer;
        address payable seller;
        uint256 amount;
        bool shipped;
        bool released;
        bool cancelled;
    }

    Order[] public orders;

    function place(address payable seller) external payable returns (uint256 id) {
        require(msg.value > 0, "amount");
        id = orders.length;
        orders.push(Order(msg.sender, seller, msg.value, false, false, false));
    }

    function markShipped(uint256 id) external {
        Order storage o = orders[id];
        require(msg.sender == o.seller && !o.cancelled, "seller");
        o.shipped = true;
    }

    function release(uint256 id) external {
        Order storage o = orders[id];
        require(msg.sender == o.buyer && !o.released && !o.cancelled, "buyer");
        o.released = true;
        o.seller.transfer(o.amount);
    }

    function cancel(uint256 id) external {
        Order storage o = orders[id];
        require(msg.sender == o.buyer && !o.shipped && !o.cancelled, "cannot cancel");
        o.cancelled = true;
        o.buyer.transfer(o.amount);
    }
}
