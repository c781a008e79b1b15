pragma solidity 0.5.17;

/// Players pick a byte; the draw is the hash of the block after the pick.
contract Draw {
    mapping(address => uint256) public pickedAt;
    mapping(address => uint8) public pick;

    function play(uint8 guess) external payable {
        require(msg.value == 0.01 ether, "stake");
        pick[msg.sender] = guess;
        pickedAt[msg.sender] = block.number + 1;
    }

    function reveal() external {
        uint256 target = pickedAt[msg.sender];
        require(target != 0 && block.number > target, "wait");
        pickedAt[msg.sender] = 0;
        if (uint8(uint256(blockhash(target))) == pick[msg.sender]) {
            msg.sender.transfer(1 ether);
        }
    }
}
