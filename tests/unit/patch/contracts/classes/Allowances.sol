pragma solidity 0.4.24;

/// A debit on another account's behalf that spends the allowance, and one that never looks at it.
contract Allowances {
    mapping(address => uint256) public balances;
    mapping(address => mapping(address => uint256)) public allowed;

    function approve(address spender, uint256 value) public {
        allowed[msg.sender][spender] = value;
    }

    function spendFrom(address from, address to, uint256 value) public {
        require(allowed[from][msg.sender] >= value && balances[from] >= value);
        allowed[from][msg.sender] -= value;
        balances[from] -= value;
        balances[to] += value;
    }

    function moveFrom(address from, address to, uint256 value) public {
        require(balances[from] >= value);
        balances[from] = balances[from] - value;
        balances[to] += value;
    }
}
