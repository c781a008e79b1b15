// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

interface ILensToken {
    function balanceOf(address account) external view returns (uint256);
}

interface ILensPool {
    function balanceOf(address account) external view returns (uint256);
    function getReserves() external view returns (uint256, uint256);
    function token0() external view returns (address);
}

interface ILensLending {
    function suppliedOf(address account) external view returns (uint256);
    function collateralOf(address account) external view returns (uint256);
    function debtOf(address account) external view returns (uint256);
    function availableLiquidity() external view returns (uint256);
}

interface ILensFlash {
    function balanceOf(address token, address lender) external view returns (uint256);
    function maxFlashLoan(address token) external view returns (uint256);
    function feeBps() external view returns (uint256);
}

interface ILensOracle {
    function price(address asset) external view returns (uint256);
}

/// @title BenignLens
/// @notice Reads everything the benign-traffic generator needs in one eth_call (never deployed
///         with state; called read-only).
contract BenignLens {
    struct Market {
        address usd;
        address weth;
        address oracle;
        address pool;
        address lending;
        address vault;
        address flash;
        address flashBorrower;
    }

    uint256 public constant GLOBALS = 10;
    uint256 public constant PER_USER = 9;

    /// @return out globals (price, weth reserve, usd reserve, cash, flash usd, flash weth, fee bps,
    ///         borrower usd, borrower weth, 0), then PER_USER values for each user.
    function snapshot(Market calldata m, address[] calldata users) external view returns (uint256[] memory out) {
        out = new uint256[](GLOBALS + PER_USER * users.length);
        out[0] = ILensOracle(m.oracle).price(m.weth);
        (uint256 r0, uint256 r1) = ILensPool(m.pool).getReserves();
        (out[1], out[2]) = ILensPool(m.pool).token0() == m.weth ? (r0, r1) : (r1, r0);
        out[3] = ILensLending(m.lending).availableLiquidity();
        out[4] = ILensFlash(m.flash).maxFlashLoan(m.usd);
        out[5] = ILensFlash(m.flash).maxFlashLoan(m.weth);
        out[6] = ILensFlash(m.flash).feeBps();
        out[7] = ILensToken(m.usd).balanceOf(m.flashBorrower);
        out[8] = ILensToken(m.weth).balanceOf(m.flashBorrower);
        for (uint256 i = 0; i < users.length; ++i) {
            address u = users[i];
            uint256 k = GLOBALS + PER_USER * i;
            out[k] = ILensToken(m.usd).balanceOf(u);
            out[k + 1] = ILensToken(m.weth).balanceOf(u);
            out[k + 2] = ILensPool(m.pool).balanceOf(u);
            out[k + 3] = ILensLending(m.lending).suppliedOf(u);
            out[k + 4] = ILensLending(m.lending).collateralOf(u);
            out[k + 5] = ILensLending(m.lending).debtOf(u);
            out[k + 6] = ILensToken(m.vault).balanceOf(u);
            out[k + 7] = ILensFlash(m.flash).balanceOf(m.usd, u);
            out[k + 8] = ILensFlash(m.flash).balanceOf(m.weth, u);
        }
    }
}
