pragma solidity 0.4.25;

/// A board anyone fills, growing its array one slot at a time behind an unbraced if, and a reset
/// that clears the whole array.
contract UnbracedGrowth {
    uint[] public entries;
    uint public count;
    uint public resets;

    function add(uint value, uint n) public {
        for (uint i = 0; i < n; i++) {
            if (count == entries.length) entries.length += 1;
            entries[count++] = value;
        }
    }

    function reset() public {
        require(count > 100);
        entries = new uint[](0);
        count = 0;
        resets++;
    }
}
