pragma solidity 0.8.26;

/// Owed rebates are paid by a modifier before each action, with a value call before the record
/// is cleared.
contract Rebates {
    mapping(address => uint256) public rebate;
    mapping(address => uint256) public staked;

    modifier settles() {
        uint256 due = rebate[msg.sender];
        if (due > 0) {
            (bool ok, ) = msg.sender.call{value: due}("");
            require(ok, "pay");
            rebate[msg.sender] = 0;
        }
        _;
    }

    function stake() external payable settles {
        staked[msg.sender] += msg.value;
        rebate[msg.sender] += msg.value / 100;
    }

    function claim() external settles {}
}
