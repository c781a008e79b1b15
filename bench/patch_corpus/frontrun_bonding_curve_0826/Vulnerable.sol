pragma solidity 0.8.26;

/// Community token sold on a linear bonding curve: the n-th token costs BASE + SLOPE * n wei.
/// Buyers send enough ether and get the change back; sellers get the curve price back.
contract CurveToken {
    uint256 public constant BASE = 1e15;
    uint256 public constant SLOPE = 1e14;

    uint256 public supply;
    mapping(address => uint256) public balanceOf;

    event Minted(address indexed to, uint256 amount, uint256 paid);
    event Burned(address indexed from, uint256 amount, uint256 refunded);

    function costBetween(uint256 from, uint256 amount) public pure returns (uint256) {
        return amount * BASE + (SLOPE * (amount * (2 * from + amount - 1))) / 2;
    }

    function buy(uint256 amount) external payable {
        require(amount > 0, "amount");
        uint256 cost = costBetween(supply, amount);
        require(msg.value >= cost, "underpaid");
        supply += amount;
        balanceOf[msg.sender] += amount;
        emit Minted(msg.sender, amount, cost);
        if (msg.value > cost) {
            payable(msg.sender).transfer(msg.value - cost);
        }
    }

    function sell(uint256 amount) external {
        require(amount > 0 && balanceOf[msg.sender] >= amount, "amount");
        supply -= amount;
        balanceOf[msg.sender] -= amount;
        uint256 refund = costBetween(supply, amount);
        emit Burned(msg.sender, amount, refund);
        payable(msg.sender).transfer(refund);
    }
}
