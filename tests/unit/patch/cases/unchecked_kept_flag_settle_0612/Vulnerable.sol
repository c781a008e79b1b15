pragma solidity 0.6.12;

/// Claims desk: policy holders file claims; the assessor settles each one, which books the payout
/// as owed and sends it. Anything still owed can be withdrawn by its claimant at any time.
contract ClaimsDesk {
    struct Claim {
        address payable claimant;
        uint256 amount;
        bool settled;
    }

    address public assessor;
    Claim[] public claims;
    mapping(address => uint256) public owed;
    uint256 public settledCount;

    event ClaimSettled(uint256 id, uint256 amount, bool paid);

    constructor() public payable {
        assessor = msg.sender;
    }

    receive() external payable {}

    function file(uint256 amount) external {
        claims.push(Claim(msg.sender, amount, false));
    }

    function settle(uint256 id) external {
        require(msg.sender == assessor, "assessor only");
        Claim storage c = claims[id];
        require(!c.settled, "already settled");
        c.settled = true;
        settledCount += 1;
        owed[c.claimant] += c.amount;
        uint256 amount = owed[c.claimant];
        owed[c.claimant] = 0;
        (bool sent, ) = c.claimant.call{value: amount}("");
        emit ClaimSettled(id, amount, sent);
    }

    function withdrawOwed() external {
        uint256 amount = owed[msg.sender];
        require(amount > 0, "nothing owed");
        owed[msg.sender] = 0;
        msg.sender.transfer(amount);
    }
}
