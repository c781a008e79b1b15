// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// @title StakePool
/// @notice Pooled ether with transferable shares. `getRate()` is the ether value of one share.
contract StakePool {
    uint256 public reserve;
    uint256 public totalShares;
    mapping(address => uint256) public sharesOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Joined(address indexed account, uint256 amount, uint256 shares);
    event Exited(address indexed account, uint256 shares, uint256 amount);

    function join() external payable returns (uint256 shares) {
        shares = totalShares == 0 ? msg.value : (msg.value * totalShares) / reserve;
        reserve += msg.value;
        totalShares += shares;
        sharesOf[msg.sender] += shares;
        emit Joined(msg.sender, msg.value, shares);
    }

    function exit(uint256 shares) external returns (uint256 amount) {
        amount = (shares * reserve) / totalShares;
        sharesOf[msg.sender] -= shares;
        totalShares -= shares;
        (bool ok, ) = msg.sender.call{value: amount}("");
        require(ok, "send");
        reserve -= amount;
        emit Exited(msg.sender, shares, amount);
    }

    /// @notice Ether per share, 18 decimals.
    function getRate() external view returns (uint256) {
        if (totalShares == 0) return 1e18;
        return (reserve * 1e18) / totalShares;
    }

    function approve(address spender, uint256 shares) external returns (bool) {
        allowance[msg.sender][spender] = shares;
        return true;
    }

    function transfer(address to, uint256 shares) external returns (bool) {
        sharesOf[msg.sender] -= shares;
        sharesOf[to] += shares;
        return true;
    }

    function transferFrom(address from, address to, uint256 shares) external returns (bool) {
        allowance[from][msg.sender] -= shares;
        sharesOf[from] -= shares;
        sharesOf[to] += shares;
        return true;
    }
}
