pragma solidity 0.7.6;

interface IERC20 {
    function balanceOf(address who) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// Treasury shop: sells GOV for USD at the market's price plus a 1% markup.
contract GovShop {
    IERC20 public immutable usd;
    IERC20 public immutable gov;
    address public immutable market;
    uint256 public sold;

    constructor(IERC20 _usd, IERC20 _gov, address _market) {
        usd = _usd;
        gov = _gov;
        market = _market;
    }

    function _usdPerGov() internal view returns (uint256) {
        return (usd.balanceOf(market) * 1e18) / gov.balanceOf(market);
    }

    function buy(uint256 usdAmount) external returns (uint256 govOut) {
        govOut = (usdAmount * 1e18 * 100) / (_usdPerGov() * 101);
        require(govOut > 0, "nothing bought");
        require(usd.transferFrom(msg.sender, address(this), usdAmount), "usd transfer");
        require(gov.transfer(msg.sender, govOut), "gov transfer");
        sold += govOut;
    }
}
