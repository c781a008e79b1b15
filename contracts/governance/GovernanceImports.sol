// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

// Pulls the OpenZeppelin governance and proxy contracts into the compile, unchanged, so the
// deployer gets their ABI and bytecode from the same solc run as the protocol.
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
