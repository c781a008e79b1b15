pragma solidity 0.4.24;

/// Flight-delay cover: a traveller buys a policy; if the insurer reports the flight delayed, the
/// traveller claims the payout. A traveller may instead cancel a policy for its premium back.
contract DelayCover {
    uint256 public constant PREMIUM = 0.1 ether;
    uint256 public constant PAYOUT = 1 ether;

    address public insurer;
    uint256 public policies;
    mapping(uint256 => address) public holder;
    mapping(uint256 => bool) public delayed;
    mapping(uint256 => bool) public claimed;
    mapping(uint256 => bool) public cancelled;

    constructor() public payable {
        insurer = msg.sender;
    }

    function buy() public payable returns (uint256 id) {
        require(msg.value == PREMIUM);
        id = policies++;
        holder[id] = msg.sender;
    }

    function reportDelay(uint256 id) public {
        require(msg.sender == insurer);
        delayed[id] = true;
    }

    function claim(uint256 id) public {
        require(msg.sender == holder[id] && delayed[id]);
        require(!claimed[id] && !cancelled[id]);
        claimed[id] = true;
        msg.sender.transfer(PAYOUT);
    }

    function cancel(uint256 id) public {
        require(msg.sender == holder[id] && !cancelled[id]);
        cancelled[id] = true;
        msg.sender.transfer(PREMIUM);
    }
}
