pragma solidity 0.4.24;

/// @title LegacyToken
/// @notice A 2017-era ERC-20 as many early tokens were written (ZRX-style): `transfer` and
///         `transferFrom` report the outcome through their boolean result rather than reverting.
///         Minted by its owner, the bridge that issues it.
contract LegacyToken {
    string public name;
    string public symbol;
    uint8 public decimals = 18;
    uint256 public totalSupply;
    address public owner;

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(string _name, string _symbol) public {
        name = _name;
        symbol = _symbol;
        owner = msg.sender;
    }

    function transfer(address _to, uint256 _value) public returns (bool) {
        if (balanceOf[msg.sender] >= _value && balanceOf[_to] + _value >= balanceOf[_to]) {
            balanceOf[msg.sender] -= _value;
            balanceOf[_to] += _value;
            emit Transfer(msg.sender, _to, _value);
            return true;
        }
        return false;
    }

    function transferFrom(address _from, address _to, uint256 _value) public returns (bool) {
        if (
            balanceOf[_from] >= _value && allowance[_from][msg.sender] >= _value
                && balanceOf[_to] + _value >= balanceOf[_to]
        ) {
            balanceOf[_to] += _value;
            balanceOf[_from] -= _value;
            allowance[_from][msg.sender] -= _value;
            emit Transfer(_from, _to, _value);
            return true;
        }
        return false;
    }

    function approve(address _spender, uint256 _value) public returns (bool) {
        allowance[msg.sender][_spender] = _value;
        emit Approval(msg.sender, _spender, _value);
        return true;
    }

    function mint(address _to, uint256 _value) public {
        require(msg.sender == owner);
        require(totalSupply + _value >= totalSupply);
        totalSupply += _value;
        balanceOf[_to] += _value;
        emit Transfer(address(0), _to, _value);
    }
}
