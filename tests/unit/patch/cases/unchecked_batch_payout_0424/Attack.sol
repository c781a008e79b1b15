pragma solidity 0.4.24;

/// A payee contract that refuses ether until told otherwise, then collects what it is owed.
contract Refuser {
    bool public open;

    function accept() public {
        open = true;
    }

    function collect(address victim) public {
        // the pull half of a patched payout, if there is one
        victim.call(bytes4(keccak256("bulwarkWithdrawPending()")));
    }

    function() public payable {
        require(open);
    }
}
