pragma solidity 0.8.19;

/// Ether wallet for a game guild: members keep balances here and withdraw in any amount.
/// Balances are checked before the payment, so the debit afterwards skips the overflow check.
contract GuildWallet {
    mapping(address => uint256) public balanceOf;
    uint256 public members;

    event Deposited(address indexed who, uint256 amount);
    event Withdrawn(address indexed who, uint256 amount);

    function deposit() external payable {
        if (balanceOf[msg.sender] == 0) members += 1;
        balanceOf[msg.sender] += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    function withdraw(uint256 amount) external {
        require(balanceOf[msg.sender] >= amount, "balance");
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        unchecked {
            balanceOf[msg.sender] -= amount;
        }
        emit Withdrawn(msg.sender, amount);
    }
}
