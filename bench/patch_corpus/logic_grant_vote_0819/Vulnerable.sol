pragma solidity 0.8.19;

/// Community grants round: members vote for proposals during the round; when it closes, the
/// proposal with the most votes receives the whole grant pot.
contract GrantRound {
    struct Proposal {
        address payable recipient;
        uint256 votes;
    }

    address public immutable steward;
    uint256 public immutable closesAt;
    mapping(address => bool) public isMember;
    mapping(address => bool) public hasVoted;
    Proposal[] public proposals;
    bool public paid;

    constructor(address[] memory members, uint256 duration) payable {
        steward = msg.sender;
        closesAt = block.timestamp + duration;
        for (uint256 i = 0; i < members.length; i++) {
            isMember[members[i]] = true;
        }
    }

    function propose(address payable recipient) external returns (uint256) {
        require(isMember[msg.sender], "member");
        proposals.push(Proposal(recipient, 0));
        return proposals.length - 1;
    }

    function vote(uint256 id) external {
        require(isMember[msg.sender], "member");
        require(block.timestamp < closesAt, "closed");
        proposals[id].votes += 1;
        hasVoted[msg.sender] = true;
    }

    function payout() external {
        require(block.timestamp >= closesAt && !paid, "not now");
        uint256 best = 0;
        for (uint256 i = 1; i < proposals.length; i++) {
            if (proposals[i].votes > proposals[best].votes) {
                best = i;
            }
        }
        paid = true;
        proposals[best].recipient.transfer(address(this).balance);
    }
}
