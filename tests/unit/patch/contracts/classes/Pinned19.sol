pragma solidity 0.4.19;

/// Pinned to a compiler from before reason strings, abi.encode and the constructor keyword.
contract Pinned19 {
    mapping(address => uint256) public credit;
    address[] public buyers;

    event Refunded(address buyer, uint256 amount);

    function deposit() public payable {
        if (credit[msg.sender] == 0) buyers.push(msg.sender);
        credit[msg.sender] += msg.value;
    }

    function withdraw(uint256 amount) public {
        if (credit[msg.sender] < amount) throw;
        if (!msg.sender.call.value(amount)()) throw;
        credit[msg.sender] -= amount;
    }
}

contract OldToken {
    function transferFrom(address from, address to, uint256 value) public returns (bool);
}

/// A token deposit whose boolean result is dropped, on the same old compiler.
contract PinnedVault {
    OldToken public token;
    mapping(address => uint256) public held;

    function PinnedVault(OldToken t) public {
        token = t;
    }

    function deposit(uint256 value) public {
        token.transferFrom(msg.sender, this, value);
        held[msg.sender] += value;
    }
}
