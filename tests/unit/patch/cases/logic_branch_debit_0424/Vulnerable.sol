pragma solidity 0.4.24;

/// Prepaid card: holders load ether, spend it at the vendor or cash it back out; cashing out within
/// a week of the last load costs a flat fee of 0.01 ether.
contract PrepaidCard {
    address public vendor;
    mapping(address => uint256) public credit;
    mapping(address => uint256) public loadedAt;
    uint256 public fees;

    constructor() public {
        vendor = msg.sender;
    }

    function load() public payable {
        credit[msg.sender] += msg.value;
        loadedAt[msg.sender] = now;
    }

    function spend(uint256 amount) public {
        if (credit[msg.sender] < amount) throw;
        credit[msg.sender] -= amount;
        vendor.transfer(amount);
    }

    function cashOut(uint256 amount) public {
        if (amount == 0 || credit[msg.sender] < amount) throw;
        if (now > loadedAt[msg.sender] + 1 weeks) {
            credit[msg.sender] = credit[msg.sender] - amount;
            msg.sender.transfer(amount);
        } else {
            if (amount <= 0.01 ether) throw;
            fees += 0.01 ether;
            msg.sender.transfer(amount - 0.01 ether);
        }
    }
}
