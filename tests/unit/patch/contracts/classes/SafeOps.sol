pragma solidity 0.4.24;

/// Arithmetic that cannot wrap (ether attached, guarded subtractions) beside arithmetic that can.
contract SafeOps {
    mapping(address => uint256) public bal;
    uint256 public pot;

    function deposit() public payable {
        bal[msg.sender] += msg.value;
        pot = pot + msg.value;
    }

    function withdraw(uint256 a) public {
        require(a > 0 && bal[msg.sender] >= a);
        bal[msg.sender] -= a;
        msg.sender.transfer(a);
    }

    function withdrawOld(uint256 a) public {
        if (a == 0 || bal[msg.sender] < a) throw;
        bal[msg.sender] = bal[msg.sender] - a;
        msg.sender.transfer(a);
    }

    function give(address to, uint256 a) public {
        bal[msg.sender] -= a;
        bal[to] += a;
    }

    function branchOnly(uint256 a) public {
        if (bal[msg.sender] >= a) {
            pot += 1;
        }
        bal[msg.sender] -= a;
    }
}

/// Products of ether and literals: bounded; a product with a caller's number is not.
contract Prices {
    mapping(address => uint256) public tokens;
    uint256 public sold;

    function buy() public payable {
        tokens[msg.sender] += msg.value * 100;
        sold = sold + msg.value * 100;
    }

    function buyMany(uint256 count) public payable {
        require(msg.value == count * 1 ether);
        tokens[msg.sender] += count;
    }
}
