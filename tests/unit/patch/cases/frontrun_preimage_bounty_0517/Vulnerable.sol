pragma solidity 0.5.17;

/// A bounty for the preimage of a SHA-256 digest; sponsors may top it up until it is claimed.
contract PreimageBounty {
    bytes32 public target;
    address public claimer;

    constructor(bytes32 _target) public payable {
        target = _target;
    }

    function topUp() external payable {
        require(claimer == address(0), "claimed");
    }

    function claim(bytes32 preimage) external {
        require(claimer == address(0), "claimed");
        require(sha256(abi.encodePacked(preimage)) == target, "wrong");
        claimer = msg.sender;
        msg.sender.transfer(address(this).balance);
    }
}
