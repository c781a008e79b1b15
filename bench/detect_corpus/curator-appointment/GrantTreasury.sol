// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title GrantTreasury
/// @notice Holds a grants programme's funds; a curator pays out approved grants.
contract GrantTreasury {
    IERC20 public immutable asset;
    address public curator;
    uint256 public paidOut;

    event GrantPaid(address indexed to, uint256 amount);
    event CuratorChanged(address indexed curator);

    modifier onlyCurator() {
        require(msg.sender == curator, "not curator");
        _;
    }

    constructor(IERC20 asset_, address curator_) {
        asset = asset_;
        curator = curator_;
    }

    /// @notice Hands the curator seat to a successor.
    function appointCurator(address successor) external {
        curator = successor;
        emit CuratorChanged(successor);
    }

    /// @notice Pays an approved grant.
    function payGrant(address to, uint256 amount) external onlyCurator {
        paidOut += amount;
        asset.transfer(to, amount);
        emit GrantPaid(to, amount);
    }

    /// @notice Anyone may top the programme up.
    function fund(uint256 amount) external {
        asset.transferFrom(msg.sender, address(this), amount);
    }
}
