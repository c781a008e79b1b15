pragma solidity 0.8.19;

/// Loyalty points backed one-for-one by ether the issuer deposits; points move between holders
/// through allowances and are redeemed for ether.
contract PointsLedger {
    address public immutable issuer;
    mapping(address => uint256) public points;
    mapping(address => mapping(address => uint256)) public allowance;

    constructor() payable {
        issuer = msg.sender;
    }

    function issue(address to, uint256 amount) external payable {
        require(msg.sender == issuer && msg.value == amount, "issuer");
        points[to] += amount;
    }

    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
    }

    function transferFrom(address from, address to, uint256 amount) external {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= amount, "allowance");
        uint256 fromPoints = points[from];
        uint256 toPoints = points[to];
        require(fromPoints >= amount, "points");
        allowance[from][msg.sender] = allowed - amount;
        points[from] = fromPoints - amount;
        points[to] = toPoints + amount;
    }

    function redeem(uint256 amount) external {
        require(points[msg.sender] >= amount, "points");
        points[msg.sender] -= amount;
        payable(msg.sender).transfer(amount);
    }
}
