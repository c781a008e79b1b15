pragma solidity 0.6.12;

/// Deposit receipt token: the bank mints receipts 1:1 for deposited ether and redeems them.
/// An authorised minter can also issue receipts against off-chain deposits it has taken in.
contract ReceiptToken {
    mapping(address => uint256) public balanceOf;
    uint256 public totalSupply;
    address public minter;

    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(address _minter) public {
        minter = _minter;
    }

    modifier onlyMinter() {
        require(msg.sender == minter, "minter");
        _;
    }

    function deposit() external payable {
        _mint(msg.sender, msg.value);
    }

    function issue(address to, uint256 value) external {
        _mint(to, value);
    }

    function setMinter(address next) external onlyMinter {
        minter = next;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        require(balanceOf[msg.sender] >= value, "balance");
        balanceOf[msg.sender] -= value;
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }

    function redeem(uint256 value) external {
        require(balanceOf[msg.sender] >= value, "balance");
        balanceOf[msg.sender] -= value;
        totalSupply -= value;
        emit Transfer(msg.sender, address(0), value);
        msg.sender.transfer(value);
    }

    function _mint(address to, uint256 value) internal {
        balanceOf[to] += value;
        totalSupply += value;
        emit Transfer(address(0), to, value);
    }
}
