pragma solidity 0.6.12;

/// A wallet with an owner: a bare payout left unguarded beside the owner's bookkeeping.
contract Executor {
    address public owner;
    mapping(address => uint256) public refunds;

    constructor() public payable {
        owner = msg.sender;
    }

    receive() external payable {}

    function execute(address payable to, uint256 value, bytes calldata data) external {
        (bool ok, ) = to.call{value: value}(data);
        require(ok, "call failed");
    }

    function owe(address who, uint256 amount) external {
        require(msg.sender == owner, "owner");
        refunds[who] += amount;
    }

    function refundTo(address payable to, uint256 amount) external {
        require(refunds[to] >= amount, "not owed");
        refunds[to] -= amount;
        to.transfer(amount);
    }
}
