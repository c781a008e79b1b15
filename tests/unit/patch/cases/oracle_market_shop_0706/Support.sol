pragma solidity 0.7.6;

contract TestToken {
    string public symbol;
    uint8 public constant decimals = 18;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    constructor(string memory _symbol, uint256 supply) {
        symbol = _symbol;
        totalSupply = supply;
        balanceOf[msg.sender] = supply;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        require(balanceOf[msg.sender] >= value, "balance");
        balanceOf[msg.sender] -= value;
        balanceOf[to] += value;
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        require(balanceOf[from] >= value && allowance[from][msg.sender] >= value, "balance/allowance");
        allowance[from][msg.sender] -= value;
        balanceOf[from] -= value;
        balanceOf[to] += value;
        return true;
    }
}

/// Constant-product market priced from its own token balances (no fee, no stored reserves).
contract BalanceMarket {
    TestToken public immutable tokenA;
    TestToken public immutable tokenB;

    constructor(TestToken a, TestToken b) {
        tokenA = a;
        tokenB = b;
    }

    function addLiquidity(uint256 amountA, uint256 amountB) external {
        tokenA.transferFrom(msg.sender, address(this), amountA);
        tokenB.transferFrom(msg.sender, address(this), amountB);
    }

    function swap(address tokenIn, uint256 amountIn, address to) external returns (uint256 amountOut) {
        bool aIn = tokenIn == address(tokenA);
        require(aIn || tokenIn == address(tokenB), "unknown token");
        (TestToken tin, TestToken tout) = aIn ? (tokenA, tokenB) : (tokenB, tokenA);
        uint256 rIn = tin.balanceOf(address(this));
        uint256 rOut = tout.balanceOf(address(this));
        amountOut = (amountIn * rOut) / (rIn + amountIn);
        tin.transferFrom(msg.sender, address(this), amountIn);
        tout.transfer(to, amountOut);
    }
}
