"""Old-idiom shapes (solc 0.4-0.5, issue 18) found by what a contract does with its records: a setup
whose writes go through a library's storage parameter, an owner check written as
``if (r.owner != msg.sender) throw;`` through a ``var`` pointer, and a stake its caller names but
never pays; a mapping of owners one writer sets unchecked; a wait written as ``if (now - last <
period) throw;``; a die cast from a hash of public values; a
payout that updates only the totals, never what it owes."""

from __future__ import annotations

from bulwark.domain import VulnClass
from bulwark.patch import PatchRequest, generate, locate
from bulwark.toolchain.solc import Compiler

LIBRARY_WALLET = """pragma solidity 0.4.24;

library Book {
    struct Data {
        mapping(address => bool) member;
        uint256 limit;
    }

    function fill(Data storage self, address[] who, uint256 limit) internal {
        for (uint256 i = 0; i < who.length; i++) {
            self.member[who[i]] = true;
        }
        self.limit = limit;
    }

    function size(Data storage self) internal view returns (uint256) {
        return self.limit;
    }
}

contract Club {
    using Book for Book.Data;

    Book.Data book;

    function Club(address[] who, uint256 limit) public {
        initClub(who, limit);
    }

    function initClub(address[] who, uint256 limit) public {
        book.fill(who, limit);
    }

    function initAgain(address[] who) public {
        Book.fill(book, who, 1 ether);
    }

    function initPeek() public returns (uint256) {
        return book.size();
    }

    function pay(address to, uint256 value) public {
        if (!book.member[msg.sender] || value > book.limit) throw;
        to.transfer(value);
    }
}
"""

HANDLES = """pragma solidity 0.4.25;

contract Handles {
    struct Entry {
        address holder;
        address target;
    }

    mapping(bytes32 => Entry) public entries;

    function reserve(bytes32 h, address target) public {
        entries[h] = Entry(msg.sender, target);
    }

    function point(bytes32 h, address target) public {
        var e = entries[h];
        if (e.holder != msg.sender) throw;
        e.target = target;
    }

    function release(bytes32 h) public {
        if (entries[h].holder != msg.sender) throw;
        delete entries[h];
    }
}
"""

STAKES = """pragma solidity 0.5.17;

contract Table {
    struct Bet {
        address payable player;
        uint256 stake;
        bool settled;
    }

    Bet[] public bets;
    mapping(address => uint256) public pledged;
    mapping(address => uint256) public paidIn;

    function place(uint256 stake) external payable {
        require(stake > 0 && stake <= 1 ether);
        bets.push(Bet(msg.sender, stake, false));
    }

    function placeChecked(uint256 stake) external payable {
        require(msg.value == stake);
        bets.push(Bet(msg.sender, stake, false));
    }

    function pledge(uint256 amount) external payable {
        pledged[msg.sender] += amount;
    }

    function deposit(uint256 amount) external payable {
        paidIn[msg.sender] = amount;
    }

    function settle(uint256 id) external {
        Bet storage b = bets[id];
        require(!b.settled);
        b.settled = true;
        uint256 paid = 0;
        if (id % 2 == 0) {
            paid = b.stake * 2;
            b.player.transfer(paid);
        }
    }

    function refund() external {
        uint256 amount = paidIn[msg.sender];
        paidIn[msg.sender] = 0;
        msg.sender.transfer(amount);
    }
}
"""


OWNER_MAP = """pragma solidity 0.4.24;

contract Names {
    mapping(bytes32 => address) public owners;
    mapping(bytes32 => address) public addrs;
    mapping(address => address) public delegateOf;
    mapping(uint256 => address) public holder;
    uint256 public count;
    address public operator;

    function Names() public {
        operator = msg.sender;
    }

    function take(bytes32 name, address addr) public payable {
        if (msg.value < 10 finney) throw;
        owners[name] = msg.sender;
        addrs[name] = addr;
    }

    function reassign(bytes32 name, address to) public {
        if (msg.sender != operator) throw;
        owners[name] = to;
    }

    function give(bytes32 name, address to) public {
        if (owners[name] != msg.sender) throw;
        owners[name] = to;
    }

    function buy() public payable returns (uint256 id) {
        id = count++;
        holder[id] = msg.sender;
    }

    function drop(uint256 id) public {
        if (holder[id] != msg.sender) throw;
        holder[id] = address(0);
    }

    function setDelegate(address to) public {
        delegateOf[msg.sender] = to;
    }

    function actFor(address who) public view returns (bool) {
        return delegateOf[who] == msg.sender;
    }
}
"""

WAITS = """pragma solidity 0.4.25;

contract Waits {
    address public leader;
    uint256 public lastBid;
    uint256 public opened;

    function Waits() public {
        opened = now;
    }

    function bid() public payable {
        leader = msg.sender;
        lastBid = now;
    }

    function claim() public {
        if (now - lastBid < 1 hours) throw;
        msg.sender.transfer(this.balance);
    }

    function claimSum() public {
        if (block.timestamp < lastBid + 1 hours) throw;
        msg.sender.transfer(this.balance);
    }

    function early() public payable {
        require(now - opened < 1 hours);
        leader = msg.sender;
    }
}
"""


DICE = """pragma solidity 0.4.25;

contract Dice {
    uint256 public nonce;
    mapping(bytes32 => address) public tickets;

    function roll(uint8 guess) public payable {
        if (msg.value != 0.1 ether) throw;
        nonce += 1;
        if (uint8(uint256(sha3(msg.sender, nonce)) % 6) == guess) {
            msg.sender.transfer(0.5 ether);
        }
    }

    function ticket() public payable {
        if (msg.value != 0.1 ether) throw;
        nonce += 1;
        tickets[sha3(msg.sender, nonce)] = msg.sender;
    }
}
"""


PRIZES = """pragma solidity 0.4.24;

contract Prizes {
    address public owner;
    mapping(address => uint256) public prize;
    mapping(address => uint256) public lastClaim;
    uint256 public totalPaid;

    function Prizes() public payable {
        owner = msg.sender;
    }

    function award(address who, uint256 amount) public {
        if (msg.sender != owner) throw;
        prize[who] += amount;
    }

    function claim() public {
        uint256 amount = prize[msg.sender];
        if (amount == 0) throw;
        totalPaid += amount;
        msg.sender.transfer(amount);
    }

    function drip() public {
        if (now < lastClaim[msg.sender] + 1 days) throw;
        lastClaim[msg.sender] = now;
        msg.sender.transfer(prize[msg.sender] / 100);
    }
}
"""


LOCKS = """pragma solidity 0.4.25;

contract Locker {
    struct Lock {
        uint256 amount;
        uint256 until;
    }

    mapping(address => Lock) public locks;
    mapping(address => uint256) public lastPing;

    function lock() public payable {
        locks[msg.sender] = Lock(msg.value, now + 1 hours);
    }

    function unlock() public {
        Lock storage l = locks[msg.sender];
        if (now < l.until) throw;
        uint256 a = l.amount;
        l.amount = 0;
        msg.sender.transfer(a);
    }

    function ping() public {
        if (lastPing[msg.sender] + 10 minutes > now) throw;
        lastPing[msg.sender] = now;
        msg.sender.transfer(1 finney);
    }
}
"""


ORIGIN_GUARD = """pragma solidity 0.4.24;

contract Bank {
    address owner;

    function Bank() public {
        owner = msg.sender;
    }

    function () public payable {}

    function sweep(address to) public {
        if (tx.origin != owner && msg.sender != owner) throw;
        to.transfer(this.balance);
    }

    function close() public {
        suicide(owner);
    }
}
"""


def _found(compiler: Compiler, name: str, text: str) -> dict[tuple[VulnClass, str | None], str]:
    found = locate(PatchRequest(sources={name: text}, use_slither=False), compiler=compiler)
    return {(f.vuln_class, f.function): f.detector for f in found}


def _patched(compiler: Compiler, name: str, text: str, function: str, template: str) -> str:
    patches = generate(PatchRequest(sources={name: text}, use_slither=False), compiler=compiler)
    patch = next(p for p in patches if p.function == function and template in p.template.split("+"))
    return patch.patched_sources[name]


def test_a_setup_writing_through_a_librarys_storage_parameter_is_an_unprotected_initializer(
    compiler: Compiler,
) -> None:
    found = _found(compiler, "Club.sol", LIBRARY_WALLET)
    assert "unprotected-initializer" in found[(VulnClass.ACCESS_CONTROL, "initClub")]
    assert "unprotected-initializer" in found[(VulnClass.ACCESS_CONTROL, "initAgain")]
    # handing the struct to a library function that only reads it writes nothing through it
    assert (VulnClass.ACCESS_CONTROL, "initPeek") not in found
    text = _patched(compiler, "Club.sol", LIBRARY_WALLET, "initClub", "setup-deployer-only")
    assert (
        "function initClub(address[] who, uint256 limit) public {\n"
        "        require(msg.sender == _bulwarkDeployer()"
    ) in text


def test_an_owner_check_written_as_if_throw_through_a_var_pointer_guards_the_siblings(
    compiler: Compiler,
) -> None:
    found = _found(compiler, "Handles.sol", HANDLES)
    assert "sibling-owner-check" in found[(VulnClass.INVARIANT_BREAK, "reserve")]
    text = _patched(compiler, "Handles.sol", HANDLES, "reserve", "missing-check")
    assert (
        'require(entries[h].holder == address(0) || entries[h].holder == msg.sender, "Bulwark: taken");\n'
        "        entries[h] = Entry(msg.sender, target);"
    ) in text


def test_a_stake_the_caller_names_and_the_contract_pays_out_of_must_be_sent(compiler: Compiler) -> None:
    found = _found(compiler, "Table.sol", STAKES)
    assert found[(VulnClass.INVARIANT_BREAK, "place")] == "unpaid-stake"
    assert found[(VulnClass.INVARIANT_BREAK, "deposit")] == "unpaid-stake"
    # compared with msg.value already; or recorded where no payment ever reads it
    assert (VulnClass.INVARIANT_BREAK, "placeChecked") not in found
    assert (VulnClass.INVARIANT_BREAK, "pledge") not in found
    text = _patched(compiler, "Table.sol", STAKES, "place", "missing-check")
    assert (
        "function place(uint256 stake) external payable {\n"
        '        require(msg.value == stake, "Bulwark: value sent differs");\n'
        "        require(stake > 0 && stake <= 1 ether);"
    ) in text


def test_a_mapping_of_owners_set_unchecked_by_one_writer_is_taken_only_while_free(
    compiler: Compiler,
) -> None:
    found = _found(compiler, "Names.sol", OWNER_MAP)
    assert found[(VulnClass.INVARIANT_BREAK, "take")] == "sibling-owner-check"
    # the operator may reassign; give checks the owner; a caller's own entry, or a key the function
    # allocates itself, is no takeover
    for fn in ("reassign", "give", "setDelegate", "buy"):
        assert (VulnClass.INVARIANT_BREAK, fn) not in found
    text = _patched(compiler, "Names.sol", OWNER_MAP, "take", "missing-check")
    assert (
        'require(owners[name] == address(0) || owners[name] == msg.sender, "Bulwark: taken");\n'
        "        owners[name] = msg.sender;"
    ) in text


def test_a_wait_that_aborts_while_it_runs_also_needs_the_blocks(compiler: Compiler) -> None:
    found = _found(compiler, "Waits.sol", WAITS)
    assert "timestamp-wait" in found[(VulnClass.TIMESTAMP_DEPENDENCE, "claim")]
    assert "timestamp-wait" in found[(VulnClass.TIMESTAMP_DEPENDENCE, "claimSum")]
    # a window that must still be open is no wait
    assert "timestamp-wait" not in found.get((VulnClass.TIMESTAMP_DEPENDENCE, "early"), "")
    text = _patched(compiler, "Waits.sol", WAITS, "claim", "timestamp-block-floor")
    assert "if ((now - lastBid < 1 hours || !_bulwarkBlocksPassed(keccak256(abi.encode(uint256(" in text
    assert "(uint256(1 hours) + 11) / 12))) throw;" in text
    assert "if ((block.timestamp < lastBid + 1 hours || !_bulwarkBlocksPassed(" in text
    assert "lastBid = now;\n        _bulwarkMarkBlock(" in text


def test_a_hash_of_public_values_reduced_to_a_die_is_weak_randomness(compiler: Compiler) -> None:
    found = _found(compiler, "Dice.sol", DICE)
    assert "block-randomness" in found[(VulnClass.WEAK_RANDOMNESS, "roll")]
    # the same hash used as a key is no die
    assert (VulnClass.WEAK_RANDOMNESS, "ticket") not in found
    text = _patched(compiler, "Dice.sol", DICE, "roll", "randomness-eoa-only")
    assert "function roll(uint8 guess) public payable {\n        require(msg.sender == tx.origin" in text


def test_a_payout_that_updates_only_totals_clears_what_it_owes(compiler: Compiler) -> None:
    found = _found(compiler, "Prizes.sol", PRIZES)
    assert "replayable-payout" in found[(VulnClass.INVARIANT_BREAK, "claim")]
    # a payout that keeps something per key (a last-claim time) is metered by design
    assert (VulnClass.INVARIANT_BREAK, "drip") not in found
    patches = generate(PatchRequest(sources={"Prizes.sol": PRIZES}, use_slither=False), compiler=compiler)
    texts = [p.patched_sources["Prizes.sol"] for p in patches if "missing-check" in p.template.split("+")]
    debit = "totalPaid += amount;\n        prize[msg.sender] = 0;\n        msg.sender.transfer(amount);"
    assert any(debit in t for t in texts)


def test_a_cooldown_and_a_deadline_in_one_contract_are_fixed_in_one_patch(compiler: Compiler) -> None:
    patches = generate(PatchRequest(sources={"Locker.sol": LOCKS}, use_slither=False), compiler=compiler)
    first = patches[0]
    assert set(first.template.split("+")) == {"timestamp-block-floor", "timestamp-bounded-clock"}
    text = first.patched_sources["Locker.sol"]
    assert "if (_bulwarkNow(l.until) < l.until) throw;" in text
    assert "if ((lastPing[msg.sender] + 10 minutes > now || !_bulwarkBlocksPassed(" in text
    # the bounded clock marks only the reading its span is measured from
    assert text.count("_bulwarkMarkTime(") == 2  # the mark and the helper


def test_a_siblings_guard_through_tx_origin_is_copied_with_msg_sender(compiler: Compiler) -> None:
    text = _patched(compiler, "Bank.sol", ORIGIN_GUARD, "close", "access-control-guard")
    assert (
        "function close() public {\n        if (msg.sender != owner && msg.sender != owner) throw;\n"
        "        suicide(owner);"
    ) in text
