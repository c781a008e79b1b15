pragma solidity 0.5.17;

/// Escrowed order book: traders deposit ether and keep a private list of resting order sizes.
/// The operator may skim the protocol's share of the pool.
contract OrderBook {
    address payable public operator;
    mapping(address => uint256) public deposits;
    mapping(address => uint256[]) private orders;
    uint256 public totalDeposits;

    constructor() public {
        operator = msg.sender;
    }

    function deposit() external payable {
        deposits[msg.sender] += msg.value;
        totalDeposits += msg.value;
    }

    function withdraw(uint256 amount) external {
        require(deposits[msg.sender] >= amount, "balance");
        deposits[msg.sender] -= amount;
        totalDeposits -= amount;
        msg.sender.transfer(amount);
    }

    function place(uint256 size) external {
        require(size <= deposits[msg.sender], "size");
        orders[msg.sender].push(size);
    }

    function resize(uint256 id, uint256 size) external {
        uint256[] storage mine = orders[msg.sender];
        require(id < mine.length, "no order");
        mine[id] = size;
    }

    function cancelLast() external {
        orders[msg.sender].length--;
    }

    function openOrders(address trader) external view returns (uint256) {
        return orders[trader].length;
    }

    function orderAt(address trader, uint256 id) external view returns (uint256) {
        return orders[trader][id];
    }

    function skim(uint256 amount) external {
        require(msg.sender == operator, "operator");
        operator.transfer(amount);
    }
}
