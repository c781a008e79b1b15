// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

interface IRaffle {
    function buy() external payable;
}

/// A player contract that refuses refunds until told otherwise, then collects what it is owed.
contract Refuser {
    bool public open;

    function play(IRaffle raffle) external payable {
        raffle.buy{value: msg.value}();
    }

    function accept() external {
        open = true;
    }

    function collect(address victim) external {
        // the pull half of a patched refund, if there is one
        (bool ok, ) = victim.call(abi.encodeWithSignature("bulwarkWithdrawPending()"));
        ok;
    }

    receive() external payable {
        require(open, "closed");
    }
}
