pragma solidity 0.4.25;

interface IClub {
    function buy() external payable;
}

contract TicketBuyer {
    function buyMany(IClub club, uint256 count) public payable {
        for (uint256 i = 0; i < count; i++) {
            club.buy.value(1 finney)();
        }
    }
}
