pragma solidity 0.7.6;

/// Ether rebate programme: the operator funds it and pays the listed rebates out in batches;
/// each address receives its rebate once.
contract RebateDrop {
    address public operator;
    mapping(address => uint256) public rebate;
    mapping(address => bool) public delivered;
    uint256 public deliveredTotal;

    event Delivered(address indexed to, uint256 amount);

    constructor() {
        operator = msg.sender;
    }

    receive() external payable {}

    function list(address[] calldata to, uint256[] calldata amounts) external {
        require(msg.sender == operator, "operator");
        require(to.length == amounts.length, "length");
        for (uint256 i = 0; i < to.length; i++) {
            rebate[to[i]] = amounts[i];
        }
    }

    function deliver(address payable[] calldata batch) external {
        require(msg.sender == operator, "operator");
        for (uint256 i = 0; i < batch.length; i++) {
            address payable to = batch[i];
            uint256 amount = rebate[to];
            if (delivered[to] || amount == 0) {
                continue;
            }
            delivered[to] = true;
            deliveredTotal += amount;
            to.call{value: amount, gas: 30000}("");
            emit Delivered(to, amount);
        }
    }
}
