pragma solidity 0.5.17;

/// Members back one of two options; each member's backing is recorded.
contract Poll {
    mapping(address => bool) public member;
    mapping(address => bool) public backed;
    uint256[2] public tally;

    constructor(address[] memory members) public {
        for (uint256 i = 0; i < members.length; i++) member[members[i]] = true;
    }

    function back(uint256 option) external {
        require(member[msg.sender], "members only");
        tally[option] += 1;
        backed[msg.sender] = true;
    }
}
