pragma solidity 0.6.12;

/// Loyalty points: bought with ether, granted by the manager, spent by their holders.
contract Points {
    address public manager;
    mapping(address => uint256) public points;
    uint256 public issued;

    constructor() public {
        manager = msg.sender;
    }

    modifier onlyManager() {
        require(msg.sender == manager, "manager");
        _;
    }

    function buy() external payable {
        _credit(msg.sender, msg.value);
    }

    function grant(address to, uint256 amount) external {
        _credit(to, amount);
    }

    function spend(uint256 amount) external {
        require(points[msg.sender] >= amount, "points");
        points[msg.sender] -= amount;
        issued -= amount;
    }

    function handOver(address next) external onlyManager {
        manager = next;
    }

    function _credit(address to, uint256 amount) internal {
        points[to] += amount;
        issued += amount;
    }
}
