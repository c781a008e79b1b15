pragma solidity 0.4.26;

/// Riddle bounty: the poser locks a prize and the hash of the answer; the first correct answer wins.
contract RiddleBounty {
    address public poser;
    bytes32 public answerHash;
    address public winner;
    string public riddle;

    event Solved(address indexed by, uint256 prize);

    constructor(string _riddle, bytes32 _answerHash) public payable {
        poser = msg.sender;
        riddle = _riddle;
        answerHash = _answerHash;
    }

    function solve(string answer) public {
        require(winner == address(0));
        require(keccak256(abi.encodePacked(answer)) == answerHash);
        winner = msg.sender;
        uint256 prize = address(this).balance;
        emit Solved(msg.sender, prize);
        msg.sender.transfer(prize);
    }

    function addToPrize() public payable {
        require(winner == address(0));
    }
}
