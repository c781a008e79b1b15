pragma solidity 0.6.12;

/// Term deposits: lock ether for five minutes and get it back with a 1% bonus from the sponsor's
/// reserve; leave early and get only the principal.
contract TermDeposit {
    uint256 public constant TERM = 5 minutes;
    uint256 public constant BONUS_BPS = 100;

    address public sponsor;
    uint256 public reserve;
    mapping(address => uint256) public principal;
    mapping(address => uint256) public openedAt;

    constructor() public payable {
        sponsor = msg.sender;
        reserve = msg.value;
    }

    function open() external payable {
        require(principal[msg.sender] == 0, "already open");
        require(msg.value > 0, "empty");
        principal[msg.sender] = msg.value;
        openedAt[msg.sender] = block.timestamp;
    }

    function close() external {
        uint256 amount = principal[msg.sender];
        require(amount > 0, "none");
        if (block.timestamp >= openedAt[msg.sender] + TERM) {
            uint256 bonus = (amount * BONUS_BPS) / 10000;
            require(reserve >= bonus, "reserve");
            reserve -= bonus;
            amount += bonus;
        }
        principal[msg.sender] = 0;
        openedAt[msg.sender] = 0;
        msg.sender.transfer(amount);
    }
}
