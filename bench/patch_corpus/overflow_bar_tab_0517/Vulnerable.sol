pragma solidity 0.5.17;

/// Festival bar tab: guests top up ether credit, order drinks against it, and cash out what is left
/// at the end of the night. The bar collects what was spent.
contract BarTab {
    address payable public bar;
    mapping(address => uint256) public credit;
    uint256 public takings;

    event Ordered(address indexed guest, uint256 price);

    constructor() public {
        bar = msg.sender;
    }

    function topUp() external payable {
        credit[msg.sender] += msg.value;
    }

    function order(uint256 price) external {
        require(price > 0, "price");
        require(credit[msg.sender] - price >= 0, "credit");
        credit[msg.sender] -= price;
        takings += price;
        emit Ordered(msg.sender, price);
    }

    function cashOut(uint256 amount) external {
        require(credit[msg.sender] >= amount, "credit");
        credit[msg.sender] -= amount;
        msg.sender.transfer(amount);
    }

    function collectTakings() external {
        require(msg.sender == bar, "bar");
        uint256 amount = takings;
        takings = 0;
        bar.transfer(amount);
    }
}
