pragma solidity 0.4.25;

/// Dice: pick a face from 1 to 6 and stake up to half an ether; the right face pays five times.
contract Dice {
    address public house;
    uint256 public nonce;
    uint256 public played;

    event Rolled(address indexed player, uint8 face, uint8 rolled, uint256 payout);

    constructor() public payable {
        house = msg.sender;
    }

    function () public payable {}

    function roll(uint8 face) public payable {
        require(face >= 1 && face <= 6);
        require(msg.value > 0 && msg.value <= 0.5 ether);
        nonce += 1;
        played += 1;
        uint8 rolled = uint8(uint256(keccak256(abi.encodePacked(now, block.difficulty, msg.sender, nonce))) % 6) + 1;
        uint256 payout = 0;
        if (rolled == face) {
            payout = msg.value * 5;
            msg.sender.transfer(payout);
        }
        emit Rolled(msg.sender, face, rolled, payout);
    }

    function withdraw(uint256 amount) public {
        require(msg.sender == house);
        house.transfer(amount);
    }
}
