pragma solidity 0.8.19;

/// All-or-nothing crowdfunding: if the goal is reached by the deadline the creator takes the funds,
/// otherwise every backer takes their pledge back.
contract Crowdfund {
    address payable public immutable creator;
    uint256 public immutable goal;
    uint256 public immutable deadline;
    uint256 public raised;
    bool public claimed;
    mapping(address => uint256) public pledged;

    event Pledged(address indexed backer, uint256 amount);
    event Refunded(address indexed backer, uint256 amount);
    event Claimed(uint256 amount);

    constructor(uint256 goal_, uint256 duration) {
        creator = payable(msg.sender);
        goal = goal_;
        deadline = block.timestamp + duration;
    }

    function pledge() external payable {
        require(block.timestamp < deadline, "closed");
        pledged[msg.sender] += msg.value;
        raised += msg.value;
        emit Pledged(msg.sender, msg.value);
    }

    function claim() external {
        require(msg.sender == creator, "creator");
        require(block.timestamp >= deadline, "open");
        require(raised >= goal, "goal");
        require(!claimed, "claimed");
        claimed = true;
        uint256 amount = address(this).balance;
        emit Claimed(amount);
        creator.transfer(amount);
    }

    function refund() external {
        require(block.timestamp >= deadline, "open");
        uint256 amount = pledged[msg.sender];
        require(amount > 0, "nothing");
        pledged[msg.sender] = 0;
        emit Refunded(msg.sender, amount);
        payable(msg.sender).transfer(amount);
    }
}
