pragma solidity 0.5.17;

library SafeMath {
    function add(uint256 a, uint256 b) internal pure returns (uint256) {
        uint256 c = a + b;
        require(c >= a, "add overflow");
        return c;
    }

    function sub(uint256 a, uint256 b) internal pure returns (uint256) {
        require(b <= a, "sub underflow");
        return a - b;
    }

    function mul(uint256 a, uint256 b) internal pure returns (uint256) {
        if (a == 0) {
            return 0;
        }
        uint256 c = a * b;
        require(c / a == b, "mul overflow");
        return c;
    }

    function div(uint256 a, uint256 b) internal pure returns (uint256) {
        require(b > 0, "div by zero");
        return a / b;
    }
}

/// Token sale in tranches: every 1,000 tokens sold (the team's allocation included) raise the
/// price by a tenth of the opening price. A purchase is priced at the tranche in force when it
/// is made, and the change is returned; holders may sell tokens back at the current price.
contract TrancheSale {
    using SafeMath for uint256;

    uint256 public constant OPENING_PRICE = 1e15;
    uint256 public constant TRANCHE = 1000;

    uint256 public sold;
    mapping(address => uint256) public balanceOf;

    event Bought(address indexed buyer, uint256 amount, uint256 paid);
    event SoldBack(address indexed seller, uint256 amount, uint256 refund);

    constructor(uint256 teamAllocation) public {
        sold = teamAllocation;
        balanceOf[msg.sender] = teamAllocation;
    }

    function price() public view returns (uint256) {
        return OPENING_PRICE.add(OPENING_PRICE.mul(sold.div(TRANCHE)).div(10));
    }

    function buy() external payable returns (uint256 amount) {
        uint256 unit = price();
        amount = msg.value.div(unit);
        require(amount > 0, "too little");
        uint256 cost = amount.mul(unit);
        sold = sold.add(amount);
        balanceOf[msg.sender] = balanceOf[msg.sender].add(amount);
        emit Bought(msg.sender, amount, cost);
        if (msg.value > cost) {
            msg.sender.transfer(msg.value - cost);
        }
    }

    function sellBack(uint256 amount) external {
        require(amount > 0 && balanceOf[msg.sender] >= amount, "amount");
        balanceOf[msg.sender] = balanceOf[msg.sender].sub(amount);
        sold = sold.sub(amount);
        uint256 refund = amount.mul(price());
        emit SoldBack(msg.sender, amount, refund);
        msg.sender.transfer(refund);
    }
}
