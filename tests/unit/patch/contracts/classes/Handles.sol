pragma solidity 0.4.24;

/// Handles: claim one, then point it somewhere; only its owner may repoint or release it.
contract Handles {
    struct Handle {
        address owner;
        address target;
    }

    mapping(bytes32 => Handle) public handles;

    function claim(bytes32 name, address target) public {
        handles[name] = Handle(msg.sender, target);
    }

    function repoint(bytes32 name, address target) public {
        Handle storage h = handles[name];
        require(h.owner == msg.sender);
        h.target = target;
    }

    function release(bytes32 name) public {
        require(handles[name].owner == msg.sender);
        delete handles[name];
    }
}
