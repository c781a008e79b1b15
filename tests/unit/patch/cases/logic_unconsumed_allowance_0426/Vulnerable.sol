pragma solidity 0.4.26;

/// Club credits: members hold credits, pass them on, and let others spend them on their behalf up
/// to an approved amount. Credits are bought for ether and redeemed for ether at a fixed rate.
contract ClubCredits {
    mapping(address => uint256) public credits;
    mapping(address => mapping(address => uint256)) public approved;
    uint256 public constant RATE = 1000;

    function buy() public payable {
        credits[msg.sender] += msg.value * RATE;
    }

    function redeem(uint256 amount) public {
        require(credits[msg.sender] >= amount);
        credits[msg.sender] -= amount;
        msg.sender.transfer(amount / RATE);
    }

    function pass(address to, uint256 amount) public {
        require(credits[msg.sender] >= amount);
        credits[msg.sender] -= amount;
        credits[to] += amount;
    }

    function approve(address spender, uint256 amount) public {
        approved[msg.sender][spender] = amount;
    }

    function passFrom(address from, address to, uint256 amount) public {
        require(credits[from] >= amount);
        credits[from] -= amount;
        credits[to] += amount;
    }
}
