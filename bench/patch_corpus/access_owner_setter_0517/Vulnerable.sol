pragma solidity 0.5.17;

/// Subscription service: subscribers prepay monthly fees; the owner withdraws earned fees and
/// can hand the service over to a new owner.
contract Subscriptions {
    address payable public owner;
    uint256 public fee;
    mapping(address => uint256) public paidUntil;

    event OwnerChanged(address indexed previous, address indexed next);

    modifier onlyOwner() {
        require(msg.sender == owner, "owner");
        _;
    }

    constructor(uint256 _fee) public {
        owner = msg.sender;
        fee = _fee;
    }

    function subscribe(uint256 months) external payable {
        require(months > 0 && msg.value == fee * months, "fee");
        uint256 from = paidUntil[msg.sender] > now ? paidUntil[msg.sender] : now;
        paidUntil[msg.sender] = from + months * 30 days;
    }

    function setFee(uint256 newFee) external onlyOwner {
        fee = newFee;
    }

    function setOwner(address payable newOwner) external {
        require(newOwner != address(0), "zero");
        emit OwnerChanged(owner, newOwner);
        owner = newOwner;
    }

    function withdraw() external onlyOwner {
        owner.transfer(address(this).balance);
    }

    function active(address who) external view returns (bool) {
        return paidUntil[who] >= now;
    }
}
