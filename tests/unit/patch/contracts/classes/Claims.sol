pragma solidity 0.6.12;

/// Holders file claims against their credit; the clerk pays claims in order, a page at a time.
contract Claims {
    struct Claim {
        address payable to;
        uint256 amount;
    }

    address public clerk;
    Claim[] public claims;
    uint256 public paidUpTo;
    mapping(address => uint256) public credit;

    constructor() public {
        clerk = msg.sender;
    }

    function deposit() external payable {
        credit[msg.sender] += msg.value;
    }

    function file(address payable to, uint256 amount) external {
        require(credit[msg.sender] >= amount, "credit");
        credit[msg.sender] -= amount;
        claims.push(Claim(to, amount));
    }

    function payPage(uint256 size) external {
        require(msg.sender == clerk, "clerk");
        uint256 end = paidUpTo + size < claims.length ? paidUpTo + size : claims.length;
        for (; paidUpTo < end; paidUpTo++) {
            Claim storage c = claims[paidUpTo];
            require(c.amount > 0, "empty claim");
            c.to.transfer(c.amount);
        }
    }

    function payAllInOrder() external {
        require(msg.sender == clerk, "clerk");
        uint256 i = 0;
        for (uint256 guard = 0; guard < 100 && i < claims.length; guard++) {
            Claim storage c = claims[i];
            require(c.amount > 0, "empty claim");
            i += 1;
        }
    }
}
