pragma solidity 0.8.26;

/// Trade escrow: a buyer funds a deal, confirms delivery, and then anyone may settle it to the seller.
contract TradeEscrow {
    enum State {
        None,
        Funded,
        Confirmed,
        Settled
    }

    struct Deal {
        address buyer;
        address seller;
        uint256 amount;
        State state;
    }

    Deal[] public deals;

    event Opened(uint256 indexed id, address indexed buyer, address indexed seller, uint256 amount);
    event Settled(uint256 indexed id);

    function open(address seller) external payable returns (uint256 id) {
        require(msg.value > 0, "empty");
        id = deals.length;
        deals.push(Deal(msg.sender, seller, msg.value, State.Funded));
        emit Opened(id, msg.sender, seller, msg.value);
    }

    function confirm(uint256 id) external {
        Deal storage d = deals[id];
        require(msg.sender == d.buyer && d.state == State.Funded, "not yours");
        d.state = State.Confirmed;
    }

    function settle(uint256 id) external {
        Deal storage d = deals[id];
        require(d.state == State.Confirmed, "not confirmed");
        d.state = State.Settled;
        payable(d.seller).call{value: d.amount}("");
        emit Settled(id);
    }

    function stateOf(uint256 id) external view returns (State) {
        return deals[id].state;
    }
}
