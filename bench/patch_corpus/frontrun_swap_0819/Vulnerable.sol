pragma solidity 0.8.19;

/// A minimal ether/token constant-product market with a 0.3% fee. The token ledger lives here.
contract MiniSwap {
    uint256 public reserveEth;
    uint256 public reserveToken;
    mapping(address => uint256) public tokens;

    event Bought(address indexed who, uint256 ethIn, uint256 tokensOut);
    event Sold(address indexed who, uint256 tokensIn, uint256 ethOut);

    constructor(uint256 initialTokens) payable {
        reserveEth = msg.value;
        reserveToken = initialTokens;
    }

    function quoteBuy(uint256 ethIn) public view returns (uint256) {
        return (reserveToken * ethIn * 997) / (reserveEth * 1000 + ethIn * 997);
    }

    function quoteSell(uint256 tokensIn) public view returns (uint256) {
        return (reserveEth * tokensIn * 997) / (reserveToken * 1000 + tokensIn * 997);
    }

    function buy() external payable returns (uint256 out) {
        out = quoteBuy(msg.value);
        reserveEth += msg.value;
        reserveToken -= out;
        tokens[msg.sender] += out;
        emit Bought(msg.sender, msg.value, out);
    }

    function sell(uint256 tokensIn) external returns (uint256 out) {
        require(tokens[msg.sender] >= tokensIn, "tokens");
        out = quoteSell(tokensIn);
        tokens[msg.sender] -= tokensIn;
        reserveToken += tokensIn;
        reserveEth -= out;
        payable(msg.sender).transfer(out);
        emit Sold(msg.sender, tokensIn, out);
    }
}
