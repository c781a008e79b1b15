pragma solidity 0.7.6;

/// Payroll float: an employer funds several employees' accounts in one payment; employees
/// withdraw from their account when they like.
contract PayrollFloat {
    mapping(address => uint256) public accountOf;

    event Funded(address indexed employer, uint256 total);
    event Withdrawn(address indexed employee, uint256 amount);

    function fund(address[] calldata employees, uint256[] calldata amounts) external payable {
        require(employees.length == amounts.length && employees.length > 0, "shape");
        uint256 total = 0;
        for (uint256 i = 0; i < amounts.length; i++) {
            total += amounts[i];
            accountOf[employees[i]] += amounts[i];
        }
        require(total == msg.value, "payment");
        emit Funded(msg.sender, total);
    }

    function withdraw(uint256 amount) external {
        require(accountOf[msg.sender] >= amount, "balance");
        accountOf[msg.sender] -= amount;
        msg.sender.transfer(amount);
        emit Withdrawn(msg.sender, amount);
    }
}
