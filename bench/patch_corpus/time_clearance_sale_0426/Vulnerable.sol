pragma solidity 0.4.26;

/// Voucher sale: a fixed stock of vouchers sells at 0.1 ether each for ten minutes after the
/// sale opens; once the sale is over, whatever stock is left goes at the clearance price to
/// whoever asks first.
contract VoucherSale {
    address public seller;
    uint256 public deadline;
    uint256 public stock;
    uint256 public constant PRICE = 100 finney;
    uint256 public constant CLEARANCE = 10 finney;
    mapping(address => uint256) public vouchers;

    event Bought(address buyer, uint256 count, uint256 paid);

    function VoucherSale(uint256 _stock) public {
        seller = msg.sender;
        stock = _stock;
        deadline = now + 10 minutes;
    }

    function buy(uint256 count) public payable {
        if (now > deadline) throw;
        if (count == 0 || count > stock) throw;
        if (msg.value != count * PRICE) throw;
        stock -= count;
        vouchers[msg.sender] += count;
        Bought(msg.sender, count, msg.value);
    }

    function clearance() public payable {
        if (now <= deadline) throw;
        if (stock == 0 || msg.value != stock * CLEARANCE) throw;
        vouchers[msg.sender] += stock;
        Bought(msg.sender, stock, msg.value);
        stock = 0;
    }

    function withdraw() public {
        if (msg.sender != seller) throw;
        seller.transfer(this.balance);
    }
}
