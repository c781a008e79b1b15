// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.26;

interface IToken {
    function approve(address spender, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

interface IQuotes {
    function price(address asset) external view returns (uint256);
    function setPrice(address asset, uint256 newPrice) external;
}

interface IMarket {
    function collateral() external view returns (address);
    function debtAsset() external view returns (address);
    function oracle() external view returns (address);
    function availableLiquidity() external view returns (uint256);
    function depositCollateral(uint256 amount) external;
    function borrow(uint256 amount) external;
}

/// @notice Opens a position on a lending market in one transaction and sends the proceeds home.
contract CollateralRouter {
    address private immutable _owner;

    constructor() {
        _owner = msg.sender;
    }

    function run(address market, uint256 collateralAmount) external {
        require(msg.sender == _owner, "owner");
        IMarket m = IMarket(market);
        IQuotes quotes = IQuotes(m.oracle());
        address col = m.collateral();
        IToken debt = IToken(m.debtAsset());

        uint256 quoted = quotes.price(col);
        uint256 cash = m.availableLiquidity();
        quotes.setPrice(col, cash * 2e18 / collateralAmount + 1);

        IToken(col).approve(market, collateralAmount);
        m.depositCollateral(collateralAmount);
        m.borrow(cash);
        quotes.setPrice(col, quoted);

        debt.transfer(_owner, debt.balanceOf(address(this)));
    }
}
