pragma solidity 0.6.12;

/// Savings pool: deposits are recorded one by one; the owner streams rewards in, which are shared
/// out pro rata over every recorded deposit.
contract RewardLedger {
    struct Entry {
        address owner;
        uint256 amount;
    }

    address public owner;
    Entry[] public entries;
    uint256 public totalDeposits;
    uint256 public rounds;
    mapping(address => uint256) public earned;
    mapping(address => uint256) public principal;

    constructor() public {
        owner = msg.sender;
    }

    function deposit() external payable {
        require(msg.value > 0, "empty");
        entries.push(Entry(msg.sender, msg.value));
        principal[msg.sender] += msg.value;
        totalDeposits += msg.value;
    }

    function notifyReward() external payable {
        require(msg.sender == owner, "owner");
        require(totalDeposits > 0, "no deposits");
        for (uint256 i = 0; i < entries.length; i++) {
            Entry storage e = entries[i];
            earned[e.owner] += (msg.value * e.amount) / totalDeposits;
        }
        rounds += 1;
    }

    function claim() external {
        uint256 amount = earned[msg.sender];
        require(amount > 0, "nothing");
        earned[msg.sender] = 0;
        msg.sender.transfer(amount);
    }

    function entryCount() external view returns (uint256) {
        return entries.length;
    }
}
