// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

interface IPairV2 {
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
}

/// Lends token0 against token1, valued at the pair's reserves.
contract SpotLend {
    IPairV2 public immutable pair;
    mapping(address => uint256) public collateral;
    mapping(address => uint256) public debt;

    constructor(IPairV2 _pair) {
        pair = _pair;
    }

    function price() public view returns (uint256) {
        (uint112 r0, uint112 r1, ) = pair.getReserves();
        return (uint256(r0) * 1e18) / r1;
    }

    function deposit() external payable {
        collateral[msg.sender] += msg.value;
    }

    function borrow(uint256 amount) external {
        debt[msg.sender] += amount;
        require(debt[msg.sender] * 1e18 <= collateral[msg.sender] * price() / 2, "limit");
    }
}
