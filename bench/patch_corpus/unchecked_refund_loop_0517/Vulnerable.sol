pragma solidity 0.5.17;

/// Group purchase: buyers pledge towards a bulk order; if the organiser cancels, everyone is
/// refunded in one go.
contract BulkOrder {
    address public organiser;
    address payable[] public buyers;
    mapping(address => uint256) public pledged;
    bool public cancelled;

    event Refund(address indexed buyer, uint256 amount);

    constructor() public {
        organiser = msg.sender;
    }

    function pledge() external payable {
        require(!cancelled, "cancelled");
        require(msg.value > 0, "empty");
        if (pledged[msg.sender] == 0) {
            buyers.push(msg.sender);
        }
        pledged[msg.sender] += msg.value;
    }

    function cancel() external {
        require(msg.sender == organiser, "organiser");
        require(!cancelled, "cancelled");
        cancelled = true;
        for (uint256 i = 0; i < buyers.length; i++) {
            address payable buyer = buyers[i];
            uint256 amount = pledged[buyer];
            pledged[buyer] = 0;
            buyer.call.value(amount)("");
            emit Refund(buyer, amount);
        }
    }
}
