pragma solidity 0.5.17;

/// Billboard: ten advertising slots. Anyone takes a slot by paying more than its current price;
/// the holder it displaces is paid back its price plus half of the increase, and the other half
/// goes to the board's owner.
contract Billboard {
    struct Slot {
        address payable holder;
        uint256 price;
        string ad;
    }

    address payable public owner;
    uint256 public earnings;
    uint256 public takeovers;
    mapping(uint256 => Slot) public slots;

    constructor() public {
        owner = msg.sender;
    }

    function holderOf(uint256 slot) public view returns (address) {
        return slots[slot].holder;
    }

    function take(uint256 slot, string memory ad) public payable {
        require(slot < 10);
        Slot storage s = slots[slot];
        require(msg.value > s.price);
        if (s.holder != address(0)) {
            uint256 increase = msg.value - s.price;
            uint256 payback = s.price + increase / 2;
            earnings += increase - increase / 2;
            (bool ok, ) = s.holder.call.value(payback)("");
            require(ok, "payback failed");
            takeovers += 1;
        } else {
            earnings += msg.value;
        }
        s.holder = msg.sender;
        s.price = msg.value;
        s.ad = ad;
    }

    function collect() public {
        require(msg.sender == owner);
        uint256 amount = earnings;
        earnings = 0;
        owner.transfer(amount);
    }
}
