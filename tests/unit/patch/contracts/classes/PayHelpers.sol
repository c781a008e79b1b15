pragma solidity 0.5.17;

/// Payments made through internal helpers: one hands the call's flag back, one checks it itself.
contract PayHelpers {
    mapping(address => uint256) public owed;
    address payable[] public members;

    function() external payable {}

    function join() public {
        members.push(msg.sender);
    }

    function book(address who) public payable {
        owed[who] += msg.value;
    }

    function _pay(address payable to, uint256 v) internal returns (bool) {
        (bool ok, ) = to.call.value(v)("");
        return ok;
    }

    function _payOrRevert(address payable to, uint256 v) internal returns (bool) {
        (bool ok, ) = to.call.value(v)("");
        require(ok);
        return ok;
    }

    function claim(address payable who) public {
        uint256 v = owed[who];
        owed[who] = 0;
        _pay(who, v);
    }

    function payAll() public {
        for (uint256 i = 0; i < members.length; i++) {
            address payable m = members[i];
            uint256 v = owed[m];
            owed[m] = 0;
            _pay(m, v);
        }
    }

    function claimChecked(address payable who) public {
        uint256 v = owed[who];
        owed[who] = 0;
        _payOrRevert(who, v);
    }
}
