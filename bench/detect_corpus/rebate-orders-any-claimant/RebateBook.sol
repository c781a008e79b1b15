// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// @title RebateBook
/// @notice A shop's rebate programme, paid in ether: the cashier books a rebate per order and the
///         buyer claims it later.
contract RebateBook {
    struct Order {
        address buyer;
        uint96 rebate;
        bool paid;
    }

    address public cashier;
    mapping(uint256 => Order) public orders;

    event Booked(uint256 indexed id, address indexed buyer, uint256 rebate);
    event Paid(uint256 indexed id, address indexed to, uint256 rebate);

    constructor() payable {
        cashier = msg.sender;
    }

    receive() external payable {}

    function book(uint256 id, address buyer, uint96 rebate) external {
        require(msg.sender == cashier, "cashier");
        require(orders[id].buyer == address(0), "booked");
        orders[id] = Order(buyer, rebate, false);
        emit Booked(id, buyer, rebate);
    }

    /// @notice Pays an order's rebate to the caller.
    function claim(uint256 id) external {
        Order storage o = orders[id];
        require(o.buyer != address(0) && !o.paid, "nothing to pay");
        o.paid = true;
        (bool ok,) = payable(msg.sender).call{value: o.rebate}("");
        require(ok, "pay");
        emit Paid(id, msg.sender, o.rebate);
    }
}
