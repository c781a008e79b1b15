pragma solidity 0.4.26;

/// The same open market in solc 0.4, whose arithmetic wraps.
contract OldPool {
    uint256 public reserveEth;
    uint256 public reserveToken;
    mapping(address => uint256) public tokens;

    constructor(uint256 seed) public payable {
        reserveEth = msg.value;
        reserveToken = seed;
    }

    function buy() public payable returns (uint256 out) {
        out = msg.value * reserveToken / (reserveEth + msg.value);
        reserveEth += msg.value;
        reserveToken -= out;
        tokens[msg.sender] += out;
    }

    function sell(uint256 amountIn) public {
        require(tokens[msg.sender] >= amountIn);
        uint256 out = amountIn * reserveEth / (reserveToken + amountIn);
        tokens[msg.sender] -= amountIn;
        reserveToken += amountIn;
        reserveEth -= out;
        msg.sender.transfer(out);
    }
}
