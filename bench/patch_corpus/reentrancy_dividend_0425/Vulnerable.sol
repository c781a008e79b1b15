pragma solidity 0.4.25;

/// Partnership with fixed shares: revenue paid in is split by share, and each partner withdraws
/// whatever has accrued to them since their last withdrawal.
contract Partnership {
    mapping(address => uint256) public shares;
    mapping(address => uint256) public withdrawnPerShare;
    uint256 public totalShares;
    uint256 public revenuePerShare;
    address public founder;

    constructor() public {
        founder = msg.sender;
    }

    function addPartner(address who, uint256 shareCount) public {
        require(msg.sender == founder && shares[who] == 0 && shareCount > 0);
        shares[who] = shareCount;
        withdrawnPerShare[who] = revenuePerShare;
        totalShares += shareCount;
    }

    function () public payable {
        require(totalShares > 0);
        revenuePerShare += msg.value / totalShares;
    }

    function owed(address who) public view returns (uint256) {
        return shares[who] * (revenuePerShare - withdrawnPerShare[who]);
    }

    function withdraw() public {
        uint256 amount = owed(msg.sender);
        require(amount > 0);
        require(msg.sender.call.value(amount)());
        withdrawnPerShare[msg.sender] = revenuePerShare;
    }
}
