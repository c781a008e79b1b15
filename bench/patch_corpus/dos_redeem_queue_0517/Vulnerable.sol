pragma solidity 0.5.17;

/// Liquid staking receipts with a first-in, first-out redemption queue that a keeper works through.
contract RedemptionQueue {
    struct Request {
        address payable holder;
        uint256 amount;
    }

    mapping(address => uint256) public receipts;
    Request[] public queue;
    uint256 public head;
    address public keeper;

    event Queued(uint256 indexed id, address indexed holder, uint256 amount);
    event Redeemed(uint256 indexed id, address indexed holder, uint256 amount);

    constructor(address _keeper) public {
        keeper = _keeper;
    }

    function stake() external payable {
        receipts[msg.sender] += msg.value;
    }

    function requestRedeem(uint256 amount) external {
        require(receipts[msg.sender] >= amount && amount > 0, "receipts");
        receipts[msg.sender] -= amount;
        queue.push(Request(msg.sender, amount));
        emit Queued(queue.length - 1, msg.sender, amount);
    }

    function process(uint256 max) external {
        require(msg.sender == keeper, "keeper");
        uint256 end = head + max;
        if (end > queue.length) end = queue.length;
        while (head < end) {
            Request storage r = queue[head];
            r.holder.transfer(r.amount);
            emit Redeemed(head, r.holder, r.amount);
            head += 1;
        }
    }

    function pending() external view returns (uint256) {
        return queue.length - head;
    }
}
