pragma solidity 0.4.24;

/// Profit-sharing pool: the manager assigns units to members and books profit, which accrues to
/// each member by units; anyone may start a payout run, which pays every member what is due.
contract ProfitPool {
    address public manager;
    address[] public members;
    mapping(address => uint256) public units;
    mapping(address => uint256) public dividendOf;
    uint256 public totalUnits;
    uint256 public runs;

    event DividendPaid(address member, uint256 amount);

    modifier onlyManager() {
        if (msg.sender != manager) throw;
        _;
    }

    function ProfitPool() public {
        manager = msg.sender;
    }

    function memberCount() public constant returns (uint256) {
        return members.length;
    }

    function addMember(address who, uint256 count) public onlyManager {
        if (units[who] != 0 || count == 0) throw;
        members.push(who);
        units[who] = count;
        totalUnits += count;
    }

    function bookProfit() public payable onlyManager {
        if (totalUnits == 0 || msg.value == 0) throw;
        for (uint256 i = 0; i < members.length; i++) {
            address m = members[i];
            dividendOf[m] += msg.value * units[m] / totalUnits;
        }
    }

    function payAll() public {
        for (uint256 i = 0; i < members.length; i++) {
            address m = members[i];
            uint256 amount = dividendOf[m];
            if (amount == 0) continue;
            dividendOf[m] = 0;
            m.call.value(amount)();
            DividendPaid(m, amount);
        }
        runs += 1;
    }
}
