pragma solidity 0.5.17;

/// Ether gift cards: the sender locks ether under the hash of a code printed on the card;
/// whoever redeems the code receives the ether.
contract GiftCards {
    struct Card {
        address sender;
        uint256 amount;
        bool redeemed;
    }

    mapping(bytes32 => Card) public cards;
    uint256 public outstanding;

    event Issued(bytes32 indexed codeHash, address indexed sender, uint256 amount);
    event Redeemed(bytes32 indexed codeHash, address indexed to, uint256 amount);

    function issue(bytes32 codeHash) external payable {
        require(msg.value > 0, "empty");
        require(cards[codeHash].amount == 0, "exists");
        cards[codeHash] = Card(msg.sender, msg.value, false);
        outstanding += msg.value;
        emit Issued(codeHash, msg.sender, msg.value);
    }

    function redeem(string calldata code) external {
        bytes32 codeHash = keccak256(bytes(code));
        Card storage card = cards[codeHash];
        require(card.amount > 0 && !card.redeemed, "no card");
        card.redeemed = true;
        outstanding -= card.amount;
        emit Redeemed(codeHash, msg.sender, card.amount);
        msg.sender.transfer(card.amount);
    }
}
