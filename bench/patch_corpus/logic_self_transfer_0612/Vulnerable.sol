pragma solidity 0.6.12;

/// Wrapped-ether style voucher: one voucher per wei deposited, redeemable at par, transferable.
contract Voucher {
    string public constant name = "Pool Voucher";
    mapping(address => uint256) public balanceOf;
    uint256 public totalSupply;

    event Transfer(address indexed from, address indexed to, uint256 value);

    function mint() external payable {
        balanceOf[msg.sender] += msg.value;
        totalSupply += msg.value;
        emit Transfer(address(0), msg.sender, msg.value);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        uint256 fromBalance = balanceOf[msg.sender];
        uint256 toBalance = balanceOf[to];
        require(fromBalance >= value, "insufficient");
        balanceOf[msg.sender] = fromBalance - value;
        balanceOf[to] = toBalance + value;
        emit Transfer(msg.sender, to, value);
        return true;
    }

    function redeem(uint256 value) external {
        require(balanceOf[msg.sender] >= value, "insufficient");
        balanceOf[msg.sender] -= value;
        totalSupply -= value;
        msg.sender.transfer(value);
        emit Transfer(msg.sender, address(0), value);
    }
}
