pragma solidity 0.4.24;

/// A shared wish list; the owner may sweep donations.
contract Wishlist {
    address public owner;
    uint256[] public wishes;

    constructor() public {
        owner = msg.sender;
    }

    function add(uint256 wish) public {
        wishes.push(wish);
    }

    function dropLast() public {
        wishes.length--;
    }

    function edit(uint256 i, uint256 wish) public {
        require(i < wishes.length);
        wishes[i] = wish;
    }

    function count() public view returns (uint256) {
        return wishes.length;
    }

    function sweep() public {
        require(msg.sender == owner);
        msg.sender.transfer(address(this).balance);
    }

    function() public payable {}
}
