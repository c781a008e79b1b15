pragma solidity 0.4.26;

/// A small name registrar: a name costs a fee for one year; its owner points it at an address.
contract NameRegistrar {
    struct Record {
        address owner;
        address target;
        uint256 expires;
    }

    uint256 public constant FEE = 0.1 ether;
    uint256 public constant TERM = 365 days;

    address public admin;
    mapping(bytes32 => Record) public records;

    event Registered(bytes32 indexed name, address indexed owner, uint256 expires);

    constructor() public {
        admin = msg.sender;
    }

    function register(bytes32 name, address target) public payable {
        require(msg.value == FEE);
        records[name] = Record(msg.sender, target, now + TERM);
        emit Registered(name, msg.sender, now + TERM);
    }

    function renew(bytes32 name) public payable {
        Record storage r = records[name];
        require(msg.value == FEE && r.owner == msg.sender);
        r.expires += TERM;
    }

    function point(bytes32 name, address target) public {
        require(records[name].owner == msg.sender);
        records[name].target = target;
    }

    function resolve(bytes32 name) public view returns (address) {
        Record storage r = records[name];
        if (r.expires < now) {
            return address(0);
        }
        return r.target;
    }

    function ownerOf(bytes32 name) public view returns (address) {
        return records[name].owner;
    }

    function withdrawFees() public {
        require(msg.sender == admin);
        admin.transfer(address(this).balance);
    }
}
