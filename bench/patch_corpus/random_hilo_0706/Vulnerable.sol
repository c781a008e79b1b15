pragma solidity 0.7.6;

/// Higher or lower: the table shows a card; the player calls whether the next card is higher.
/// A right call pays double the stake; a tie returns the stake.
contract HiLo {
    address payable public dealer;
    uint8 public shown;
    uint256 public hands;

    event Hand(address indexed player, uint8 shown, uint8 next, bool higher, bool won);

    constructor() payable {
        dealer = msg.sender;
        shown = 7;
    }

    function nextCard() internal view returns (uint8) {
        return uint8(uint256(keccak256(abi.encodePacked(blockhash(block.number - 1), hands))) % 13) + 1;
    }

    function play(bool higher) external payable {
        require(msg.value == 0.2 ether, "stake");
        uint8 next = nextCard();
        uint8 shown_ = shown;
        bool won = higher ? next > shown : next < shown;
        emit Hand(msg.sender, shown, next, higher, won);
        shown = next;
        hands += 1;
        if (won) {
            msg.sender.transfer(0.4 ether);
        } else if (next == shown_) {
            msg.sender.transfer(0.2 ether);
        }
    }

    function topUp() external payable {}
}
