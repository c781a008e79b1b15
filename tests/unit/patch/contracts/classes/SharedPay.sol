pragma solidity 0.5.17;

/// One payment helper, called by a batch and by a single withdrawal.
contract SharedPay {
    address payable[] public members;
    mapping(address => uint256) public owed;

    function join() external payable {
        members.push(msg.sender);
        owed[msg.sender] += msg.value;
    }

    function _pay(address payable to) internal {
        uint256 amount = owed[to];
        owed[to] = 0;
        to.call.value(amount)("");
    }

    function payAll() external {
        for (uint256 i = 0; i < members.length; i++) {
            _pay(members[i]);
        }
    }

    function payMe() external {
        _pay(msg.sender);
    }
}
