pragma solidity 0.5.17;

/// Slots kept as structs in a mapping: anyone takes one by paying more, and the displaced holder
/// is paid back through a storage pointer to its slot.
contract SlotBoard {
    struct Slot {
        address payable holder;
        uint256 price;
    }

    uint256 public takeovers;
    mapping(uint256 => Slot) public slots;

    function take(uint256 slot) public payable {
        Slot storage s = slots[slot];
        require(msg.value > s.price);
        if (s.holder != address(0)) {
            (bool ok, ) = s.holder.call.value(s.price)("");
            require(ok);
            takeovers += 1;
        }
        s.holder = msg.sender;
        s.price = msg.value;
    }
}
