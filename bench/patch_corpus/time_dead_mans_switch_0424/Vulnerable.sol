pragma solidity 0.4.24;

/// Dead man's switch: the owner checks in regularly; if a full hour passes without a check-in,
/// the heir may take everything.
contract DeadMansSwitch {
    address public owner;
    address public heir;
    uint256 public lastCheckIn;
    uint256 public constant TIMEOUT = 1 hours;

    event CheckedIn(uint256 at);
    event Inherited(address heir, uint256 amount);

    constructor(address _heir) public payable {
        owner = msg.sender;
        heir = _heir;
        lastCheckIn = now;
    }

    function () public payable {}

    function checkIn() public {
        require(msg.sender == owner);
        lastCheckIn = now;
        emit CheckedIn(now);
    }

    function spend(address to, uint256 amount) public {
        require(msg.sender == owner);
        lastCheckIn = now;
        to.transfer(amount);
    }

    function inherit() public {
        require(msg.sender == heir);
        require(now > lastCheckIn + TIMEOUT);
        owner = heir;
        emit Inherited(heir, address(this).balance);
        heir.transfer(address(this).balance);
    }
}
