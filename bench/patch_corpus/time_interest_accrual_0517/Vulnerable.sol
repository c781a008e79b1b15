pragma solidity 0.5.17;

/// Savings pot: deposits earn simple interest per second from a reserve the sponsor funds;
/// interest is paid out whenever the saver collects it.
contract SavingsPot {
    uint256 public constant RATE_PER_SECOND = 3e13; // per ether deposited, in wei

    address public sponsor;
    mapping(address => uint256) public deposits;
    mapping(address => uint256) public since;

    constructor() public payable {
        sponsor = msg.sender;
    }

    function interestOf(address saver) public view returns (uint256) {
        if (since[saver] == 0) {
            return 0;
        }
        return (deposits[saver] * (now - since[saver]) * RATE_PER_SECOND) / 1 ether;
    }

    function deposit() external payable {
        require(msg.value > 0, "amount");
        uint256 interest = interestOf(msg.sender);
        deposits[msg.sender] += msg.value;
        since[msg.sender] = now;
        if (interest > 0) {
            msg.sender.transfer(interest);
        }
    }

    function collect() external {
        uint256 interest = interestOf(msg.sender);
        require(interest > 0, "nothing");
        since[msg.sender] = now;
        msg.sender.transfer(interest);
    }

    function withdraw() external {
        uint256 amount = deposits[msg.sender] + interestOf(msg.sender);
        require(deposits[msg.sender] > 0, "nothing");
        deposits[msg.sender] = 0;
        since[msg.sender] = 0;
        msg.sender.transfer(amount);
    }
}
