pragma solidity 0.5.17;

library SafeCalc {
    function add(uint256 a, uint256 b) internal pure returns (uint256) {
        uint256 c = a + b;
        require(c >= a);
        return c;
    }

    function sub(uint256 a, uint256 b) internal pure returns (uint256) {
        require(b <= a);
        return a - b;
    }
}

/// Savings club: members save ether, may gift part of their savings to another member, and may
/// leave at any time with everything they have saved.
contract SavingsClub {
    using SafeCalc for uint256;

    struct Member {
        uint256 balance;
        uint256 joined;
        bool active;
    }

    mapping(address => Member) public members;
    uint256 public totalSavings;
    uint256 public memberCount;

    function save() public payable {
        require(msg.value > 0);
        Member storage m = members[msg.sender];
        if (!m.active) {
            m.active = true;
            m.joined = now;
            memberCount += 1;
        }
        m.balance = m.balance.add(msg.value);
        totalSavings = totalSavings.add(msg.value);
    }

    function gift(address friend, uint256 amount) public {
        require(members[friend].active && friend != msg.sender);
        members[msg.sender].balance = members[msg.sender].balance.sub(amount);
        members[friend].balance = members[friend].balance.add(amount);
    }

    function balanceOf(address who) public view returns (uint256) {
        return members[who].balance;
    }

    function leave() public {
        Member storage m = members[msg.sender];
        require(m.active && m.balance > 0);
        uint256 amount = m.balance;
        (bool ok, ) = msg.sender.call.value(amount)("");
        require(ok);
        m.balance = 0;
        m.active = false;
        memberCount -= 1;
        totalSavings = totalSavings.sub(amount);
    }
}
