pragma solidity 0.8.19;

interface IERC20 {
    function balanceOf(address who) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// Treasury buy-back desk: buys GOV back for USD at the GOV/USD market's price plus a 2% premium.
contract BuybackDesk {
    uint256 public constant PREMIUM_BPS = 200;

    IERC20 public immutable usd;
    IERC20 public immutable gov;
    address public immutable market;
    address public owner;
    uint256 public totalBought;
    mapping(address => uint256) public soldBy;

    event Bought(address indexed seller, uint256 govAmount, uint256 usdPaid);

    constructor(IERC20 _usd, IERC20 _gov, address _market) {
        usd = _usd;
        gov = _gov;
        market = _market;
        owner = msg.sender;
    }

    function sell(uint256 govAmount) external returns (uint256 usdPaid) {
        require(govAmount > 0, "nothing to sell");
        usdPaid = (govAmount * usd.balanceOf(market)) / gov.balanceOf(market);
        usdPaid += (usdPaid * PREMIUM_BPS) / 10000;
        require(gov.transferFrom(msg.sender, address(this), govAmount), "gov transfer");
        require(usd.transfer(msg.sender, usdPaid), "usd transfer");
        totalBought += govAmount;
        soldBy[msg.sender] += govAmount;
        emit Bought(msg.sender, govAmount, usdPaid);
    }

    function withdrawGov(address to, uint256 amount) external {
        require(msg.sender == owner, "not owner");
        require(gov.transfer(to, amount), "gov transfer");
    }
}
