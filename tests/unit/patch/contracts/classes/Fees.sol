pragma solidity 0.4.25;

/// Each purchase forwards a 1% fee to the fee wallet through a modifier, ignoring the result.
contract Fees {
    address public feeWallet;
    mapping(address => uint256) public bought;
    uint256 public forwarded;

    modifier forwardsFee() {
        uint256 fee = msg.value / 100;
        feeWallet.call.value(fee)();
        forwarded += fee;
        _;
    }

    constructor(address wallet) public {
        feeWallet = wallet;
    }

    function buy() public payable forwardsFee {
        bought[msg.sender] += msg.value;
    }
}
