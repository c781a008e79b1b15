pragma solidity 0.5.17;

/// Tiny ether lending desk: lenders supply ether; borrowers post ether collateral and may borrow up
/// to half of it; collateral can be withdrawn as long as the loan stays covered twice over.
contract LendingDesk {
    mapping(address => uint256) public supplied;
    mapping(address => uint256) public collateral;
    mapping(address => uint256) public debt;

    function supply() external payable {
        supplied[msg.sender] += msg.value;
    }

    function post() external payable {
        collateral[msg.sender] += msg.value;
    }

    function borrow(uint256 amount) external {
        require((debt[msg.sender] + amount) * 2 <= collateral[msg.sender], "undercollateralised");
        debt[msg.sender] += amount;
        msg.sender.transfer(amount);
    }

    function repay() external payable {
        require(msg.value <= debt[msg.sender], "too much");
        debt[msg.sender] -= msg.value;
    }

    function withdrawCollateral(uint256 amount) external {
        require(amount <= collateral[msg.sender], "collateral");
        require((collateral[msg.sender] - amount) >= debt[msg.sender] * 2, "loan not covered");
        (bool ok, ) = msg.sender.call.value(amount)("");
        require(ok, "send");
        collateral[msg.sender] -= amount;
    }
}
