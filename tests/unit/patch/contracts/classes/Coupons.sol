// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// The issuer books coupons; each coupon pays its face value to its holder when cashed.
contract Coupons {
    struct Coupon {
        address payable holder;
        uint256 face;
    }

    address public issuer;
    Coupon[] public coupons;

    constructor() payable {
        issuer = msg.sender;
    }

    function book(address payable holder, uint256 face) external {
        require(msg.sender == issuer, "issuer");
        coupons.push(Coupon(holder, face));
    }

    function cash(uint256 id) external {
        Coupon storage c = coupons[id];
        uint256 amount = c.face;
        c.holder.transfer(amount);
    }
}
