// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

interface IERC20Min {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

/// @title TokenLocker
/// @notice Time-locked deposits behind a proxy. The custodian can move idle funds in an emergency.
contract TokenLocker {
    address public custodian;
    bool public initialized;
    IERC20Min public token;
    mapping(address => uint256) public locked;
    mapping(address => uint256) public unlockAt;
    uint256 public totalLocked;

    event Initialized(address custodian, address token);
    event Locked(address indexed account, uint256 amount, uint256 until);
    event Released(address indexed account, uint256 amount);

    modifier onlyCustodian() {
        require(msg.sender == custodian, "custodian only");
        _;
    }

    /// @notice Sets the custodian and the locked token; runs once.
    function initialize(address custodian_, IERC20Min token_) external {
        require(!initialized, "initialized");
        initialized = true;
        custodian = custodian_;
        token = token_;
        emit Initialized(custodian_, address(token_));
    }

    function setToken(IERC20Min token_) external {
        require(address(token) == address(0), "token set");
        token = token_;
    }

    function lock(uint256 amount, uint256 duration) external {
        require(token.transferFrom(msg.sender, address(this), amount), "pull");
        locked[msg.sender] += amount;
        totalLocked += amount;
        uint256 until = block.timestamp + duration;
        if (until > unlockAt[msg.sender]) unlockAt[msg.sender] = until;
        emit Locked(msg.sender, amount, until);
    }

    function release(uint256 amount) external {
        require(block.timestamp >= unlockAt[msg.sender], "locked");
        locked[msg.sender] -= amount;
        totalLocked -= amount;
        require(token.transfer(msg.sender, amount), "push");
        emit Released(msg.sender, amount);
    }

    /// @notice Emergency move of the locker's funds.
    function emergencyMove(address to, uint256 amount) external onlyCustodian {
        require(token.transfer(to, amount), "push");
    }

    function setCustodian(address next) external onlyCustodian {
        custodian = next;
    }
}
