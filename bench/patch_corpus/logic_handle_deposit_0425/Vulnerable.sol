pragma solidity 0.4.25;

/// Handle registry: reserving a handle locks a deposit of one ether. The holder points the handle
/// at an address, hands it to someone else, or releases it and takes the deposit back.
contract HandleRegistry {
    struct Entry {
        address holder;
        address target;
        uint256 deposit;
    }

    uint256 public constant DEPOSIT = 1 ether;
    mapping(bytes32 => Entry) public entries;
    uint256 public reserved;

    event Reserved(bytes32 handle, address holder);
    event Released(bytes32 handle);

    function reserve(bytes32 handle, address target) public payable {
        if (msg.value != DEPOSIT) throw;
        entries[handle] = Entry(msg.sender, target, msg.value);
        reserved += 1;
        Reserved(handle, msg.sender);
    }

    function point(bytes32 handle, address target) public {
        var entry = entries[handle];
        if (entry.holder != msg.sender) throw;
        entry.target = target;
    }

    function handOver(bytes32 handle, address to) public {
        if (entries[handle].holder != msg.sender) throw;
        entries[handle].holder = to;
    }

    function release(bytes32 handle) public {
        var entry = entries[handle];
        if (entry.holder != msg.sender) throw;
        uint256 amount = entry.deposit;
        delete entries[handle];
        reserved -= 1;
        Released(handle);
        msg.sender.transfer(amount);
    }

    function resolve(bytes32 handle) public view returns (address) {
        return entries[handle].target;
    }

    function holderOf(bytes32 handle) public view returns (address) {
        return entries[handle].holder;
    }
}
