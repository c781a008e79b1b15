// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.26;

interface IToken {
    function approve(address spender, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

interface IFlashLender {
    function flashLoan(address receiver, address token, uint256 amount, bytes calldata data) external returns (bool);
}

interface IPool {
    function swap(address tokenIn, uint256 amountIn, uint256 minAmountOut, address to) external returns (uint256);
}

interface IMarket {
    function collateral() external view returns (address);
    function debtAsset() external view returns (address);
    function availableLiquidity() external view returns (uint256);
    function borrowLimit(address borrower) external view returns (uint256);
    function depositCollateral(uint256 amount) external;
    function borrow(uint256 amount) external;
}

/// @notice Flash-funded position: moves through the pool, posts collateral, borrows against it,
///         unwinds the pool leg and settles the flash loan, all in one transaction.
contract LeverageRouter {
    address private immutable _owner;
    address private _lender;

    struct Route {
        address pool;
        address market;
        uint256 collateralAmount;
    }

    constructor() {
        _owner = msg.sender;
    }

    function run(address lender, address pool, address market, uint256 amount, uint256 collateralAmount) external {
        require(msg.sender == _owner, "owner");
        _lender = lender;
        IMarket m = IMarket(market);
        address usd = m.debtAsset();
        IFlashLender(lender).flashLoan(address(this), usd, amount, abi.encode(Route(pool, market, collateralAmount)));
        _lender = address(0);
        IToken(usd).transfer(_owner, IToken(usd).balanceOf(address(this)));
        IToken weth = IToken(m.collateral());
        uint256 left = weth.balanceOf(address(this));
        if (left > 0) weth.transfer(_owner, left);
    }

    function onFlashLoan(address, address usd, uint256 amount, uint256 fee, bytes calldata data)
        external
        returns (bytes32)
    {
        require(msg.sender == _lender, "lender");
        Route memory r = abi.decode(data, (Route));
        IMarket m = IMarket(r.market);
        address weth = m.collateral();

        IToken(usd).approve(r.pool, amount);
        uint256 bought = IPool(r.pool).swap(usd, amount, 0, address(this));

        IToken(weth).approve(r.market, r.collateralAmount);
        m.depositCollateral(r.collateralAmount);
        uint256 limit = m.borrowLimit(address(this));
        uint256 cash = m.availableLiquidity();
        m.borrow(limit < cash ? limit : cash);

        IToken(weth).approve(r.pool, bought);
        IPool(r.pool).swap(weth, bought, 0, address(this));

        require(IToken(usd).balanceOf(address(this)) >= amount + fee, "short");
        IToken(usd).approve(msg.sender, amount + fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }
}
