pragma solidity 0.4.24;

/// Monthly payroll: the treasurer funds the contract and runs payroll once per period;
/// each member of staff is paid their salary in turn.
contract Payroll {
    address public treasurer;
    address[] public staff;
    mapping(address => uint256) public salary;
    mapping(uint256 => mapping(address => bool)) public paid;
    uint256 public period;

    event Paid(uint256 indexed period, address indexed member, uint256 amount);

    constructor() public {
        treasurer = msg.sender;
        period = 1;
    }

    function () public payable {}

    function hire(address member, uint256 monthly) public {
        require(msg.sender == treasurer);
        require(salary[member] == 0 && monthly > 0);
        staff.push(member);
        salary[member] = monthly;
    }

    function runPayroll() public {
        require(msg.sender == treasurer);
        for (uint256 i = 0; i < staff.length; i++) {
            address member = staff[i];
            if (paid[period][member]) {
                continue;
            }
            paid[period][member] = true;
            member.send(salary[member]);
            emit Paid(period, member, salary[member]);
        }
    }

    function closePeriod() public {
        require(msg.sender == treasurer);
        period += 1;
    }
}
