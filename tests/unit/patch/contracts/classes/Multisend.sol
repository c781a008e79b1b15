pragma solidity 0.4.24;

/// Splits what its caller attaches over several recipients; shares its contract's name.
contract Multisend {
    uint256 public batches;

    function multisend(address[] to, uint256[] amounts) public payable {
        uint256 total = 0;
        for (uint256 i = 0; i < to.length; i++) {
            to[i].send(amounts[i]);
            total += amounts[i];
        }
        require(total == msg.value);
        batches += 1;
    }
}

/// A case slip in the old-style constructor: vault() is a public function that takes ownership.
contract Vault {
    address public owner;

    function vault() public {
        owner = msg.sender;
    }

    function () public payable {}

    function sweep() public {
        require(msg.sender == owner);
        owner.transfer(address(this).balance);
    }
}
