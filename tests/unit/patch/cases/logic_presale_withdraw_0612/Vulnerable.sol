pragma solidity 0.6.12;

/// Presale with a soft cap: once the owner closes it, the owner takes the funds if the soft cap was
/// beaten, otherwise every contributor withdraws what it put in.
contract Presale {
    address payable public owner;
    uint256 public immutable softCap;
    uint256 public total;
    bool public closed;
    bool public finalized;
    mapping(address => uint256) public contributed;

    constructor(uint256 _softCap) public {
        owner = msg.sender;
        softCap = _softCap;
    }

    function contribute() external payable {
        require(!closed, "closed");
        contributed[msg.sender] += msg.value;
        total += msg.value;
    }

    function close() external {
        require(msg.sender == owner, "owner");
        closed = true;
    }

    function finalize() external {
        require(msg.sender == owner, "owner");
        require(closed, "open");
        require(total > softCap, "soft cap");
        require(!finalized, "done");
        finalized = true;
        owner.transfer(address(this).balance);
    }

    function withdraw() external {
        require(closed, "open");
        uint256 amount = contributed[msg.sender];
        require(amount > 0, "nothing");
        contributed[msg.sender] = 0;
        msg.sender.transfer(amount);
    }
}
