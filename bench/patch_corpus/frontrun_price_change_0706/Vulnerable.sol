pragma solidity 0.7.6;

/// Fixed-price token shop: the shop owner may reprice at any time; buyers receive
/// msg.value / price whole tokens at the price in force when their purchase is mined.
contract TokenShop {
    address payable public owner;
    uint256 public price;
    uint256 public sold;
    mapping(address => uint256) public balanceOf;

    event Priced(uint256 price);
    event Purchase(address indexed buyer, uint256 paid, uint256 amount);

    constructor(uint256 _price) {
        owner = msg.sender;
        price = _price;
    }

    function setPrice(uint256 newPrice) external {
        require(msg.sender == owner, "owner");
        require(newPrice > 0, "zero");
        price = newPrice;
        emit Priced(newPrice);
    }

    function purchase() external payable {
        uint256 amount = msg.value / price;
        require(amount > 0, "too little");
        balanceOf[msg.sender] += amount;
        sold += amount;
        emit Purchase(msg.sender, msg.value, amount);
    }

    function cashOut() external {
        require(msg.sender == owner, "owner");
        owner.transfer(address(this).balance);
    }
}
