pragma solidity 0.5.17;

/// Community price log for a prediction pool: reporters append observations and may undo their
/// last one; the pool's admin settles the pool and withdraws its fees.
contract PriceLog {
    mapping(address => uint256) public stakes;
    address payable public admin;
    uint256[] public observations;
    uint256 public totalStakes;

    constructor() public {
        admin = msg.sender;
    }

    function join() external payable {
        require(msg.value > 0, "stake");
        stakes[msg.sender] += msg.value;
        totalStakes += msg.value;
    }

    function report(uint256 price) external {
        require(stakes[msg.sender] > 0 || msg.sender == admin, "reporter");
        observations.push(price);
    }

    function correct(uint256 index, uint256 price) external {
        require(index < observations.length, "index");
        observations[index] = price;
    }

    function undo() external {
        observations.length--;
    }

    function latest() external view returns (uint256) {
        return observations[observations.length - 1];
    }

    function size() external view returns (uint256) {
        return observations.length;
    }

    function settle(address payable to, uint256 amount) external {
        require(msg.sender == admin, "admin");
        to.transfer(amount);
    }
}
