pragma solidity 0.4.24;

/// Revenue splitter: every payee owns a number of shares fixed at creation. Ether paid in is
/// split by shares; release() sends each payee whatever it is due so far and may be called by
/// anyone at any time.
contract RevenueSplitter {
    struct Payee {
        address wallet;
        uint shares;
        uint released;
    }

    address public creator;
    Payee[] public payees;
    uint public totalShares;
    uint public totalReleased;
    uint public releases;

    function RevenueSplitter() public {
        creator = msg.sender;
    }

    function addPayee(address wallet, uint shares) public {
        if (msg.sender != creator || shares == 0 || totalReleased > 0) throw;
        payees.push(Payee(wallet, shares, 0));
        totalShares += shares;
    }

    function () public payable {}

    function releasedTo(address wallet) public constant returns (uint) {
        for (uint i = 0; i < payees.length; i++) {
            if (payees[i].wallet == wallet) return payees[i].released;
        }
        return 0;
    }

    function release() public {
        var received = this.balance + totalReleased;
        for (uint i = 0; i < payees.length; i++) {
            Payee storage p = payees[i];
            uint due = received * p.shares / totalShares - p.released;
            if (due == 0) continue;
            p.released += due;
            totalReleased += due;
            p.wallet.call.value(due)();
        }
        releases += 1;
    }
}
