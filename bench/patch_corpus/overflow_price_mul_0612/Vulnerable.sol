pragma solidity 0.6.12;

/// Arcade tokens at a fixed price of 0.001 ether each, bought in bulk and sold back at the same price.
contract ArcadeTokens {
    uint256 public constant PRICE = 1e15;
    mapping(address => uint256) public tokens;
    uint256 public issued;

    event Bought(address indexed who, uint256 count);
    event SoldBack(address indexed who, uint256 count);

    function buy(uint256 count) external payable {
        require(count > 0, "count");
        require(msg.value == count * PRICE, "payment");
        tokens[msg.sender] += count;
        issued += count;
        emit Bought(msg.sender, count);
    }

    function sellBack(uint256 count) external {
        require(tokens[msg.sender] >= count, "tokens");
        tokens[msg.sender] -= count;
        issued -= count;
        msg.sender.transfer(count * PRICE);
        emit SoldBack(msg.sender, count);
    }
}
