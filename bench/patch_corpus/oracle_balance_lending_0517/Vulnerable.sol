pragma solidity 0.5.17;

interface IERC20 {
    function balanceOf(address who) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// USD lending against COL collateral, valued at the COL/USD pair's price; loans up to 60% of value.
contract PairPricedLending {
    IERC20 public usd;
    IERC20 public col;
    address public pair;
    mapping(address => uint256) public collateral;
    mapping(address => uint256) public debt;

    event Borrowed(address indexed who, uint256 amount);

    constructor(IERC20 _usd, IERC20 _col, address _pair) public {
        usd = _usd;
        col = _col;
        pair = _pair;
    }

    function collateralValue(address who) public view returns (uint256) {
        uint256 usdInPair = usd.balanceOf(pair);
        uint256 colInPair = col.balanceOf(pair);
        return (collateral[who] * usdInPair) / colInPair;
    }

    function deposit(uint256 amount) external {
        require(col.transferFrom(msg.sender, address(this), amount), "col transfer");
        collateral[msg.sender] += amount;
    }

    function borrow(uint256 amount) external {
        debt[msg.sender] += amount;
        require(debt[msg.sender] * 100 <= collateralValue(msg.sender) * 60, "undercollateralised");
        require(usd.transfer(msg.sender, amount), "usd transfer");
        emit Borrowed(msg.sender, amount);
    }

    function repay(uint256 amount) external {
        require(amount <= debt[msg.sender], "repay too much");
        require(usd.transferFrom(msg.sender, address(this), amount), "usd transfer");
        debt[msg.sender] -= amount;
    }

    function withdraw(uint256 amount) external {
        require(amount <= collateral[msg.sender], "withdraw too much");
        collateral[msg.sender] -= amount;
        require(debt[msg.sender] * 100 <= collateralValue(msg.sender) * 60, "undercollateralised");
        require(col.transfer(msg.sender, amount), "col transfer");
    }
}
