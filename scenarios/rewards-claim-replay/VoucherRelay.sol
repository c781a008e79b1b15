// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.26;

interface IToken {
    function balanceOf(address account) external view returns (uint256);
}

interface IDistributor {
    function rewardToken() external view returns (address);
    function claim(address account, uint256 epoch, uint256 amount, bytes calldata signature) external;
}

/// @notice Submits reward vouchers on behalf of their holder, as many as the distributor can pay.
contract VoucherRelay {
    address private immutable _owner;

    constructor() {
        _owner = msg.sender;
    }

    function relay(address distributor, uint256 epoch, uint256 amount, bytes calldata signature, uint256 maxCount)
        external
        returns (uint256 count)
    {
        require(msg.sender == _owner, "owner");
        IToken token = IToken(IDistributor(distributor).rewardToken());
        while (count < maxCount && token.balanceOf(distributor) >= amount) {
            IDistributor(distributor).claim(_owner, epoch, amount, signature);
            ++count;
        }
        require(count > 0, "nothing relayed");
    }
}
