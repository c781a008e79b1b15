pragma solidity 0.5.17;

/// A seat anyone takes by paying more (the previous holder is paid back), and a payee only the
/// owner sets: both refuse-able payments, but only the seat is handed over by its own callers.
contract Seats {
    address payable public owner;
    address payable public holder;
    address payable public payee;
    uint256 public price;
    uint256 public taken;

    constructor() public payable {
        owner = msg.sender;
        holder = msg.sender;
        payee = msg.sender;
        price = msg.value;
    }

    function take() external payable {
        require(msg.value > price);
        uint256 cut = msg.value / 100;
        require(holder.send(msg.value - cut));
        holder = msg.sender;
        price = msg.value;
        taken += cut;
    }

    function setPayee(address payable who) external {
        require(msg.sender == owner);
        payee = who;
    }

    function payOut(uint256 amount) external {
        require(msg.sender == owner);
        taken -= amount;
        require(payee.send(amount - amount / 100));
    }
}
