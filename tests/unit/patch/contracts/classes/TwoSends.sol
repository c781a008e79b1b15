pragma solidity 0.4.24;

/// A round closes by paying the house its tenth and the winner the rest, each with a bare send.
contract TwoSends {
    address public house;
    address public winner;
    uint public rounds;

    function TwoSends() public {
        house = msg.sender;
    }

    function () public payable {
        winner = msg.sender;
    }

    function close() public {
        house.send(this.balance / 10);
        winner.send(this.balance);
        rounds += 1;
    }
}
