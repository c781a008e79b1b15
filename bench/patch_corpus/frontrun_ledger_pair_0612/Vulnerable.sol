pragma solidity 0.6.12;

library SafeMath {
    function add(uint256 a, uint256 b) internal pure returns (uint256) {
        uint256 c = a + b;
        require(c >= a, "add overflow");
        return c;
    }

    function sub(uint256 a, uint256 b) internal pure returns (uint256) {
        require(b <= a, "sub underflow");
        return a - b;
    }

    function mul(uint256 a, uint256 b) internal pure returns (uint256) {
        if (a == 0) {
            return 0;
        }
        uint256 c = a * b;
        require(c / a == b, "mul overflow");
        return c;
    }

    function div(uint256 a, uint256 b) internal pure returns (uint256) {
        require(b > 0, "div by zero");
        return a / b;
    }
}

/// Two-asset exchange over internal ledgers of asset A and asset B. The operator seeds the
/// reserves and credits participants; anyone swaps one asset for the other at the
/// constant-product price, less a 0.3% fee that stays in the pool.
contract LedgerPair {
    using SafeMath for uint256;

    address public operator;
    uint256 public reserveA;
    uint256 public reserveB;
    mapping(address => uint256) public balanceA;
    mapping(address => uint256) public balanceB;

    event Credited(address indexed to, uint256 a, uint256 b);
    event Swapped(address indexed who, bool aForB, uint256 amountIn, uint256 amountOut);

    constructor(uint256 seedA, uint256 seedB) public {
        operator = msg.sender;
        reserveA = seedA;
        reserveB = seedB;
    }

    function credit(address to, uint256 a, uint256 b) external {
        require(msg.sender == operator, "operator");
        balanceA[to] = balanceA[to].add(a);
        balanceB[to] = balanceB[to].add(b);
        emit Credited(to, a, b);
    }

    function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) public pure returns (uint256) {
        uint256 inWithFee = amountIn.mul(997);
        return inWithFee.mul(reserveOut).div(reserveIn.mul(1000).add(inWithFee));
    }

    function swap(bool aForB, uint256 amountIn) external returns (uint256 amountOut) {
        require(amountIn > 0, "zero");
        if (aForB) {
            amountOut = getAmountOut(amountIn, reserveA, reserveB);
            balanceA[msg.sender] = balanceA[msg.sender].sub(amountIn);
            reserveA = reserveA.add(amountIn);
            reserveB = reserveB.sub(amountOut);
            balanceB[msg.sender] = balanceB[msg.sender].add(amountOut);
        } else {
            amountOut = getAmountOut(amountIn, reserveB, reserveA);
            balanceB[msg.sender] = balanceB[msg.sender].sub(amountIn);
            reserveB = reserveB.add(amountIn);
            reserveA = reserveA.sub(amountOut);
            balanceA[msg.sender] = balanceA[msg.sender].add(amountOut);
        }
        emit Swapped(msg.sender, aForB, amountIn, amountOut);
    }
}
