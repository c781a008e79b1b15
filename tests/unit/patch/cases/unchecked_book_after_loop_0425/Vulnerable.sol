pragma solidity 0.4.25;

/// Crop insurance: the insurer registers policies; after a drought is declared, one run pays every
/// policy its cover and books it as paid.
contract CropCover {
    struct Policy {
        address farmer;
        uint256 cover;
        bool paid;
    }

    address public insurer;
    Policy[] public policies;
    uint256 public totalPaid;

    constructor() public payable {
        insurer = msg.sender;
    }

    function () public payable {}

    function isPaid(uint256 i) public constant returns (bool) {
        return policies[i].paid;
    }

    function register(address farmer, uint256 cover) public {
        require(msg.sender == insurer);
        policies.push(Policy(farmer, cover, false));
    }

    function payDrought() public {
        require(msg.sender == insurer);
        for (uint256 i = 0; i < policies.length; i++) {
            if (policies[i].paid) continue;
            policies[i].farmer.send(policies[i].cover);
            policies[i].paid = true;
            totalPaid += policies[i].cover;
        }
    }
}
