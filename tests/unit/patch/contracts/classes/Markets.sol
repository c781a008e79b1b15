pragma solidity 0.8.24;

/// Constant-product ether/token market: buy() and sell() take whatever the reserves give.
contract OpenPool {
    address public owner;
    uint256 public reserveEth;
    uint256 public reserveToken;
    mapping(address => uint256) public tokens;

    constructor(uint256 seed) payable {
        owner = msg.sender;
        reserveEth = msg.value;
        reserveToken = seed;
    }

    function quote(uint256 amountIn, uint256 rIn, uint256 rOut) public pure returns (uint256) {
        return (amountIn * 997 * rOut) / (rIn * 1000 + amountIn * 997);
    }

    function buy() external payable returns (uint256 out) {
        out = quote(msg.value, reserveEth, reserveToken);
        reserveEth += msg.value;
        reserveToken -= out;
        tokens[msg.sender] += out;
    }

    function sell(uint256 amountIn) external {
        require(tokens[msg.sender] >= amountIn, "tokens");
        uint256 out = quote(amountIn, reserveToken, reserveEth);
        tokens[msg.sender] -= amountIn;
        reserveToken += amountIn;
        reserveEth -= out;
        payable(msg.sender).transfer(out);
    }

    function topUp(uint256 moreTokens) external payable {
        require(msg.sender == owner, "owner");
        reserveEth += msg.value;
        reserveToken += moreTokens;
    }
}

/// The same market with the trader's own bounds: not a finding.
contract BoundedPool {
    uint256 public reserveEth;
    uint256 public reserveToken;
    mapping(address => uint256) public tokens;

    constructor(uint256 seed) payable {
        reserveEth = msg.value;
        reserveToken = seed;
    }

    function buy(uint256 minOut) external payable returns (uint256 out) {
        out = (msg.value * reserveToken) / (reserveEth + msg.value);
        require(out >= minOut, "slippage");
        reserveEth += msg.value;
        reserveToken -= out;
        tokens[msg.sender] += out;
    }

    function sell(uint256 amountIn, uint256 minOut) external {
        uint256 out = (amountIn * reserveEth) / (reserveToken + amountIn);
        require(minOut <= out, "slippage");
        tokens[msg.sender] -= amountIn;
        reserveToken += amountIn;
        reserveEth -= out;
        payable(msg.sender).transfer(out);
    }
}

/// Share accounting: deposits and withdrawals move assets and shares together, keeping the price.
contract ShareVault {
    uint256 public totalAssets;
    uint256 public totalShares;
    mapping(address => uint256) public shares;

    function deposit() external payable returns (uint256 minted) {
        minted = totalShares == 0 ? msg.value : (msg.value * totalShares) / totalAssets;
        totalAssets += msg.value;
        totalShares += minted;
        shares[msg.sender] += minted;
    }

    function withdraw(uint256 amount) external {
        uint256 owed = (amount * totalAssets) / totalShares;
        shares[msg.sender] -= amount;
        totalShares -= amount;
        totalAssets -= owed;
        payable(msg.sender).transfer(owed);
    }
}

/// A sale whose price steps with what it has sold, with no way to sell back: no round trip.
contract OneWaySale {
    uint256 public sold;
    mapping(address => uint256) public balanceOf;

    function buy() external payable {
        uint256 amount = msg.value / (1e15 + sold * 1e12);
        sold += amount;
        balanceOf[msg.sender] += amount;
    }
}

/// A linear bonding curve that starts empty: buy() and sell() at the curve price of the moment.
contract EmptyCurve {
    uint256 public supply;
    mapping(address => uint256) public balanceOf;

    function cost(uint256 from, uint256 amount) public pure returns (uint256) {
        return amount * 1e15 + (1e14 * amount * (2 * from + amount)) / 2;
    }

    function buy(uint256 amount) external payable {
        uint256 price = cost(supply, amount);
        require(msg.value == price, "price");
        supply += amount;
        balanceOf[msg.sender] += amount;
    }

    function sell(uint256 amount) external {
        balanceOf[msg.sender] -= amount;
        supply -= amount;
        payable(msg.sender).transfer(cost(supply, amount));
    }
}
