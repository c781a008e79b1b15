pragma solidity 0.7.6;

interface IERC20 {
    function balanceOf(address who) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
}

/// Pays out WETH for REWARD points at the pool's price; also reports its own reserve ratio.
contract PoolPriced {
    IERC20 public immutable weth;
    IERC20 public immutable reward;
    address public pool;
    mapping(address => uint256) public points;

    constructor(IERC20 _weth, IERC20 _reward, address _pool) {
        weth = _weth;
        reward = _reward;
        pool = _pool;
    }

    function rewardPrice() public view returns (uint256) {
        uint256 wethInPool = weth.balanceOf(pool);
        return (wethInPool * 1e18) / reward.balanceOf(pool);
    }

    /// the contract's own holdings: not a pool price
    function backing() public view returns (uint256) {
        return (weth.balanceOf(address(this)) * 1e18) / reward.balanceOf(address(this));
    }

    function cashOut(uint256 amount) external {
        points[msg.sender] -= amount;
        weth.transfer(msg.sender, (amount * rewardPrice()) / 1e18);
    }

    function earn(uint256 amount) external {
        points[msg.sender] += amount;
    }
}
