pragma solidity 0.4.24;

/// Throne: whoever pays at least the claim price becomes monarch. The previous monarch is sent
/// the new payment less a 5% commission for the house, and the claim price rises by half.
contract Throne {
    address public house;
    address public monarch;
    uint256 public claimPrice;
    uint256 public commission;
    uint256 public reigns;

    constructor() public payable {
        house = msg.sender;
        monarch = msg.sender;
        claimPrice = msg.value;
    }

    function () public payable {
        if (msg.value < claimPrice) throw;
        uint256 fee = msg.value / 20;
        if (!monarch.send(msg.value - fee)) throw;
        commission += fee;
        monarch = msg.sender;
        claimPrice = msg.value * 3 / 2;
        reigns += 1;
    }

    function sweepCommission() public {
        if (msg.sender != house) throw;
        uint256 amount = commission;
        commission = 0;
        house.transfer(amount);
    }
}
