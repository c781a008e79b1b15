pragma solidity 0.4.24;

/// Shared bookkeeping for family wallets: a set of owners, any of whom may spend up to a daily
/// limit.
library FamilyLib {
    struct Data {
        mapping(address => bool) isOwner;
        uint256 numOwners;
        uint256 dailyLimit;
        uint256 spentToday;
        uint256 lastDay;
    }

    function setup(Data storage self, address[] owners, uint256 limit) internal {
        for (uint256 i = 0; i < owners.length; i++) {
            self.isOwner[owners[i]] = true;
        }
        self.numOwners = owners.length;
        self.dailyLimit = limit;
        self.lastDay = now / 1 days;
    }

    function spend(Data storage self, uint256 value) internal returns (bool) {
        if (now / 1 days > self.lastDay) {
            self.spentToday = 0;
            self.lastDay = now / 1 days;
        }
        if (self.spentToday + value > self.dailyLimit) return false;
        self.spentToday += value;
        return true;
    }
}

/// A family wallet: the parents are its owners; each may send up to the daily limit.
contract FamilyWallet {
    using FamilyLib for FamilyLib.Data;

    FamilyLib.Data wallet;

    event Deposit(address from, uint256 value);
    event Sent(address by, address to, uint256 value);

    function FamilyWallet(address[] owners, uint256 limit) public {
        initWallet(owners, limit);
    }

    function initWallet(address[] owners, uint256 limit) public {
        wallet.setup(owners, limit);
    }

    function () public payable {
        Deposit(msg.sender, msg.value);
    }

    function isOwner(address who) public view returns (bool) {
        return wallet.isOwner[who];
    }

    function dailyLimit() public view returns (uint256) {
        return wallet.dailyLimit;
    }

    function execute(address to, uint256 value) public {
        if (!wallet.isOwner[msg.sender]) throw;
        if (!wallet.spend(value)) throw;
        to.transfer(value);
        Sent(msg.sender, to, value);
    }
}
