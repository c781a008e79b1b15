pragma solidity 0.4.25;

/// Rotating savings club: members deposit and withdraw ether; the club keeps a shared agenda of
/// meeting dates that any member may add to, reschedule, or trim from the end.
contract SavingsCircle {
    mapping(address => uint256) public balances;
    uint256[] public meetings;
    uint256 public members;

    function deposit() public payable {
        require(msg.value > 0);
        if (balances[msg.sender] == 0) {
            members += 1;
        }
        balances[msg.sender] += msg.value;
    }

    function withdraw(uint256 amount) public {
        require(balances[msg.sender] >= amount);
        balances[msg.sender] -= amount;
        msg.sender.transfer(amount);
    }

    function schedule(uint256 date) public {
        require(balances[msg.sender] > 0);
        meetings.push(date);
    }

    function reschedule(uint256 i, uint256 date) public {
        require(balances[msg.sender] > 0);
        require(i < meetings.length);
        meetings[i] = date;
    }

    function trimAgenda() public {
        require(balances[msg.sender] > 0);
        meetings.length--;
    }

    function agendaLength() public view returns (uint256) {
        return meetings.length;
    }
}
