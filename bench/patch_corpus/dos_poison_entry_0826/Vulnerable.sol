pragma solidity 0.8.26;

/// Exit queue of a pooled validator: holders request exits, which the operator settles in order,
/// paying each request from the pool.
contract ExitQueue {
    struct Exit {
        address payable holder;
        uint128 amount;
        uint64 requestedAt;
    }

    address public immutable operator;
    mapping(address => uint256) public shares;
    Exit[] public exits;
    uint256 public next;

    event ExitRequested(uint256 indexed id, address indexed holder, uint256 amount);
    event ExitSettled(uint256 indexed id, address indexed holder, uint256 amount);

    constructor() {
        operator = msg.sender;
    }

    function join() external payable {
        shares[msg.sender] += msg.value;
    }

    function requestExit(uint256 amount) external returns (uint256 id) {
        require(shares[msg.sender] >= amount, "shares");
        shares[msg.sender] -= amount;
        id = exits.length;
        exits.push(Exit(payable(msg.sender), uint128(amount), uint64(block.timestamp)));
        emit ExitRequested(id, msg.sender, amount);
    }

    function settle(uint256 count) external {
        require(msg.sender == operator, "operator");
        uint256 end = next + count;
        if (end > exits.length) end = exits.length;
        for (; next < end; next++) {
            Exit storage e = exits[next];
            require(e.amount > 0, "empty exit");
            e.holder.transfer(e.amount);
            emit ExitSettled(next, e.holder, e.amount);
        }
    }

    function queued() external view returns (uint256) {
        return exits.length - next;
    }
}
