pragma solidity 0.6.12;

/// Ether piggy bank with a per-account withdraw-everything button.
contract PiggyBank {
    mapping(address => uint256) public balances;
    uint256 public total;

    event Deposit(address indexed who, uint256 amount);
    event Withdrawal(address indexed who, uint256 amount);

    function deposit() external payable {
        balances[msg.sender] += msg.value;
        total += msg.value;
        emit Deposit(msg.sender, msg.value);
    }

    function withdrawAll() external {
        uint256 amount = balances[msg.sender];
        require(amount > 0, "empty");
        (bool ok, ) = msg.sender.call{value: amount}("");
        require(ok, "send failed");
        balances[msg.sender] = 0;
        total -= amount;
        emit Withdrawal(msg.sender, amount);
    }
}
