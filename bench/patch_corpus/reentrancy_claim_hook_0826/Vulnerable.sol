pragma solidity 0.8.26;

interface IBadgeReceiver {
    function onBadgeReceived(address operator, uint256 badgeId) external returns (bytes4);
}

/// Launch campaign: every address may claim one membership badge, which comes with a 0.5 ether
/// welcome bonus. Badges are delivered safely: contract holders must acknowledge them.
contract WelcomeBadges {
    uint256 public constant BONUS = 0.5 ether;

    uint256 public nextId = 1;
    mapping(uint256 => address) public ownerOf;
    mapping(address => uint256) public badgeCount;
    mapping(address => bool) public claimed;

    event Claimed(address indexed who, uint256 badgeId);

    constructor() payable {}

    function claim() external {
        require(!claimed[msg.sender], "already claimed");
        uint256 id = nextId++;
        ownerOf[id] = msg.sender;
        badgeCount[msg.sender] += 1;
        if (msg.sender.code.length > 0) {
            bytes4 ack = IBadgeReceiver(msg.sender).onBadgeReceived(msg.sender, id);
            require(ack == IBadgeReceiver.onBadgeReceived.selector, "not acknowledged");
        }
        claimed[msg.sender] = true;
        payable(msg.sender).transfer(BONUS);
        emit Claimed(msg.sender, id);
    }

    function fund() external payable {}
}
