pragma solidity 0.7.6;

/// Points ledger: members buy points with ether, can pass points to each other, and cash out.
contract PointsLedger {
    mapping(address => uint256) public points;
    uint256 public constant PRICE = 1 gwei;

    function buy() external payable {
        require(msg.value % PRICE == 0, "whole points");
        points[msg.sender] += msg.value / PRICE;
    }

    function give(address to, uint256 amount) external {
        require(points[msg.sender] >= amount, "points");
        points[msg.sender] -= amount;
        points[to] += amount;
    }

    function cashOut() external {
        uint256 amount = points[msg.sender];
        require(amount > 0, "none");
        (bool ok, ) = msg.sender.call{value: amount * PRICE}("");
        require(ok, "transfer");
        points[msg.sender] = 0;
    }
}
