pragma solidity 0.4.25;

/// Climbing gym loyalty scheme: every visit is checked in and logged. When the manager closes a
/// season each logged visit earns its member a point, the log is cleared and a new season begins.
/// Points are spent on merchandise at the desk.
contract GymSeasons {
    struct Visit {
        address member;
        uint time;
    }

    address public manager;
    uint public season;
    uint public lastCheckIn;
    Visit[] public visits;
    mapping(address => uint) public points;
    mapping(address => uint) public spent;

    function GymSeasons() public {
        manager = msg.sender;
    }

    function checkIn() public {
        visits.push(Visit(msg.sender, now));
        lastCheckIn = now;
    }

    function visitCount() public view returns (uint) {
        return visits.length;
    }

    function closeSeason() public {
        if (msg.sender != manager) throw;
        for (uint i = 0; i < visits.length; i++) {
            points[visits[i].member] += 1;
        }
        delete visits;
        season += 1;
    }

    function redeem(address member, uint amount) public {
        if (msg.sender != manager || points[member] < amount) throw;
        points[member] -= amount;
        spent[member] += amount;
    }
}
