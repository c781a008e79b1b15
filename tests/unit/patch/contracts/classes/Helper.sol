// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// Savers deposit and withdraw; every payment goes through one routine, which was left public.
contract Helper {
    address public admin;
    mapping(address => uint256) public saved;

    constructor() {
        admin = msg.sender;
    }

    modifier onlyAdmin() {
        require(msg.sender == admin, "admin");
        _;
    }

    function deposit() external payable {
        saved[msg.sender] += msg.value;
    }

    function withdraw() external {
        uint256 amount = saved[msg.sender];
        saved[msg.sender] = 0;
        send(payable(msg.sender), amount);
    }

    function rescue(address payable to, uint256 amount) external onlyAdmin {
        send(to, amount);
    }

    function send(address payable to, uint256 amount) public {
        (bool ok, ) = to.call{value: amount}("");
        require(ok, "send failed");
    }
}
