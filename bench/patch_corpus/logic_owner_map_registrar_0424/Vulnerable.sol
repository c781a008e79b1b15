pragma solidity 0.4.24;

/// Name service: a name costs a small fee; its owner sets the address it resolves to and may
/// give the name to someone else. The operator collects the fees.
contract NameService {
    address public operator;
    uint256 public constant FEE = 10 finney;
    mapping(bytes32 => address) public owners;
    mapping(bytes32 => address) public addrs;

    event NameTaken(bytes32 name, address owner);

    function NameService() public {
        operator = msg.sender;
    }

    function take(bytes32 name, address addr) public payable {
        if (msg.value < FEE) throw;
        owners[name] = msg.sender;
        addrs[name] = addr;
        NameTaken(name, msg.sender);
    }

    function setAddr(bytes32 name, address addr) public {
        if (owners[name] != msg.sender) throw;
        addrs[name] = addr;
    }

    function give(bytes32 name, address to) public {
        if (owners[name] != msg.sender) throw;
        owners[name] = to;
    }

    function collect() public {
        if (msg.sender != operator) throw;
        operator.transfer(this.balance);
    }
}
