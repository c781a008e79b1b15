// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

/// Code shaped like the flaws the sibling, clock and reprice checks look for, but sound.
contract NearMisses {
    address public owner;
    uint256 public closesAt; // set from a parameter, not from the clock
    uint256 public feePerMille;
    uint256 public raised;
    uint256 public goal;
    bool public closed;
    mapping(address => uint256) public credits;
    mapping(address => uint256) public debits;
    mapping(address => uint256) public pledged;

    constructor(uint256 closesAt_, uint256 goal_) {
        owner = msg.sender;
        closesAt = closesAt_;
        goal = goal_;
    }

    function setFee(uint256 perMille) external {
        require(msg.sender == owner, "owner");
        feePerMille = perMille;
    }

    // the owner's rate only quotes: no payment converts at it
    function quote(uint256 amount) external view returns (uint256) {
        return (amount * feePerMille) / 1000;
    }

    function pledge() external payable {
        require(block.timestamp < closesAt, "closed");
        pledged[msg.sender] += msg.value;
        raised += msg.value;
    }

    // two entries of different mappings: writing one cannot lose the other
    function settle(address from, address to, uint256 amount) external {
        uint256 credit = credits[from];
        uint256 debit = debits[to];
        require(credit >= amount, "credit");
        credits[from] = credit - amount;
        debits[to] = debit + amount;
    }

    function close() external {
        require(msg.sender == owner, "owner");
        closed = true;
    }

    // both payouts look at the outcome: no path pays on the wrong one
    function claim() external {
        require(closed, "open");
        require(msg.sender == owner && raised >= goal, "claim");
        raised = 0;
        payable(owner).transfer(address(this).balance);
    }

    function refund() external {
        require(closed, "open");
        require(raised < goal, "goal met");
        uint256 amount = pledged[msg.sender];
        pledged[msg.sender] = 0;
        payable(msg.sender).transfer(amount);
    }
}
