pragma solidity 0.5.17;

contract TestToken {
    string public symbol;
    uint8 public constant decimals = 18;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    constructor(string memory _symbol, uint256 supply) public {
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

/// Constant-product pair (no fee) that records its reserves and the time of its last trade.
contract ReservePair {
    TestToken public token0;
    TestToken public token1;
    uint112 private reserve0;
    uint112 private reserve1;
    uint32 private blockTimestampLast;

    constructor(TestToken t0, TestToken t1) public {
        token0 = t0;
        token1 = t1;
    }

    function getReserves() public view returns (uint112, uint112, uint32) {
        return (reserve0, reserve1, blockTimestampLast);
    }

    function addLiquidity(uint256 amount0, uint256 amount1) external {
        token0.transferFrom(msg.sender, address(this), amount0);
        token1.transferFrom(msg.sender, address(this), amount1);
        _update();
    }

    function swap(address tokenIn, uint256 amountIn, address to) external returns (uint256 amountOut) {
        bool zeroIn = tokenIn == address(token0);
        require(zeroIn || tokenIn == address(token1), "unknown token");
        uint256 rIn = zeroIn ? uint256(reserve0) : uint256(reserve1);
        uint256 rOut = zeroIn ? uint256(reserve1) : uint256(reserve0);
        amountOut = (amountIn * rOut) / (rIn + amountIn);
        TestToken(tokenIn).transferFrom(msg.sender, address(this), amountIn);
        (zeroIn ? token1 : token0).transfer(to, amountOut);
        _update();
    }

    function _update() private {
        reserve0 = uint112(token0.balanceOf(address(this)));
        reserve1 = uint112(token1.balanceOf(address(this)));
        blockTimestampLast = uint32(block.timestamp);
    }
}
