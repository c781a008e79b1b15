// SPDX-License-Identifier: MIT
pragma solidity 0.6.12;

contract Base {
    function kill() public {
        selfdestruct(msg.sender);
    }
}

contract Setup is Base {
    address public owner = msg.sender;
    address public treasury;
    bool public configured;
    mapping(address => uint256) public balances;

    modifier onlyOwner() {
        require(msg.sender == owner, "owner");
        _;
    }

    function configure(address t) external {
        require(!configured, "done");
        configured = true;
        treasury = t;
    }

    function sweep() external onlyOwner {
        msg.sender.transfer(address(this).balance);
    }

    function withdrawFor(uint256 amount) external {
        address account = tx.origin;
        balances[account] -= amount;
        msg.sender.transfer(amount);
    }
}
