pragma solidity 0.4.25;

interface IGym {
    function checkIn() external;
}

contract Crowd {
    function flood(IGym gym, uint times) public {
        for (uint i = 0; i < times; i++) {
            gym.checkIn();
        }
    }
}
