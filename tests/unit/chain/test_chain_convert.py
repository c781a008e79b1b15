from __future__ import annotations

from eth_utils.crypto import keccak
from hexbytes import HexBytes

from bulwark.chain import convert
from bulwark.chain.abi import decode_revert, encode_call, encode_deploy
from bulwark.domain.chain import CallFrame

A = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
A_CS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
B = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
H1 = "0x" + "11" * 32
H2 = "0x" + "22" * 32

RAW_TX = {
    "hash": H1,
    "from": B,
    "to": A,
    "value": "0xde0b6b3a7640000",
    "input": "0x60fe47b10000000000000000000000000000000000000000000000000000000000000005",
    "nonce": "0x2",
    "gas": "0x5208",
    "maxFeePerGas": "0x3b9aca00",
    "maxPriorityFeePerGas": "0x1",
    "gasPrice": "0x3b9aca00",
    "blockNumber": None,
    "transactionIndex": None,
}


def test_pending_transaction() -> None:
    tx = convert.to_transaction(RAW_TX)
    assert tx.sender == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert tx.to == A_CS
    assert tx.value == 10**18
    assert tx.nonce == 2 and tx.gas == 21000
    assert tx.selector == "0x60fe47b1"
    assert tx.priority_fee == 1
    assert tx.block_number is None


def test_contract_creation_has_no_recipient() -> None:
    assert convert.to_transaction({**RAW_TX, "to": None}).to is None


def test_web3_formatted_values_are_accepted() -> None:
    # WebSocket messages arrive already formatted by web3.py: ints and HexBytes.
    formatted = {
        **RAW_TX,
        "hash": HexBytes(H1),
        "value": 10**18,
        "input": HexBytes(RAW_TX["input"]),
        "nonce": 2,
        "gas": 21000,
    }
    assert convert.to_transaction(formatted) == convert.to_transaction(RAW_TX)


def test_block_with_hashes_and_full_block() -> None:
    raw = {
        "number": "0x10",
        "hash": H1,
        "parentHash": H2,
        "timestamp": "0x6553f100",
        "baseFeePerGas": "0x7",
        "gasUsed": "0x5208",
        "gasLimit": "0x1c9c380",
        "transactions": [H2],
    }
    block = convert.to_block(raw)
    assert (block.number, block.timestamp, block.base_fee) == (16, 0x6553F100, 7)
    assert block.tx_hashes == (H2,) and block.transactions == ()
    full = convert.to_block({**raw, "transactions": [RAW_TX]})
    assert full.tx_hashes == (H1,)
    assert full.transactions[0].value == 10**18


def test_receipt_with_log() -> None:
    raw = {
        "transactionHash": H1,
        "status": "0x0",
        "blockNumber": "0x3",
        "blockHash": H2,
        "transactionIndex": "0x0",
        "gasUsed": "0xae3f",
        "effectiveGasPrice": "0x1",
        "contractAddress": None,
        "logs": [
            {
                "address": A,
                "topics": [H2],
                "data": "0x05",
                "blockNumber": "0x3",
                "blockHash": H2,
                "transactionHash": H1,
                "logIndex": "0x0",
                "removed": False,
            }
        ],
    }
    receipt = convert.to_receipt(raw)
    assert receipt.status is False
    assert receipt.gas_used == 0xAE3F
    assert receipt.contract_address is None
    assert receipt.logs[0].address == A_CS and receipt.logs[0].data == b"\x05"


def test_call_frame_tree() -> None:
    raw = {
        "type": "call",
        "from": B,
        "to": A,
        "value": "0x0",
        "input": "0xff0e4645",
        "output": "0x",
        "gasUsed": "0x100",
        "calls": [
            {
                "type": "STATICCALL",
                "from": A,
                "to": B,
                "input": "0x70a08231",
                "gasUsed": "0x10",
                "error": "execution reverted",
                "revertReason": "nope",
            }
        ],
    }
    root = convert.to_call_frame(raw)
    frames = list(root.walk())
    assert [(d, f.type) for d, f in frames] == [(0, "CALL"), (1, "STATICCALL")]
    child: CallFrame = frames[1][1]
    assert child.selector == "0x70a08231"
    assert child.value == 0 and child.revert_reason == "nope"


def test_prestate_diff_reads_zero_slots_and_clears() -> None:
    raw = {
        "pre": {
            A: {"balance": "0x10", "nonce": 1, "storage": {"0x00": "0x05", "0x01": "0x09"}},
            B: {"balance": "0x0", "code": "0x"},
        },
        "post": {
            A: {"balance": "0x20", "nonce": 2, "storage": {"0x00": "0x08", "0x02": "0x07"}},
            B: {"code": "0x6000"},
        },
    }
    diff = convert.to_state_diff(raw)
    assert diff.balances == {A_CS: (0x10, 0x20)}
    assert diff.nonces == {A_CS: (1, 2)}
    assert B.lower() in {a.lower() for a in diff.code_changed}
    changes = {
        int(c.slot, 16): (int(c.before or "0x0", 16), int(c.after or "0x0", 16)) for c in diff.storage[A_CS]
    }
    assert changes == {0: (5, 8), 1: (9, 0), 2: (0, 7)}


def test_revert_decoding() -> None:
    error_string = bytes.fromhex(
        "08c379a0"
        "0000000000000000000000000000000000000000000000000000000000000020"
        "0000000000000000000000000000000000000000000000000000000000000007"
        "756e6c75636b7900000000000000000000000000000000000000000000000000"
    )
    assert decode_revert(error_string) == "unlucky"
    panic = bytes.fromhex("4e487b71" + "00" * 31 + "11")
    assert decode_revert(panic) == "panic 0x11 (arithmetic overflow or underflow)"
    abi = [
        {
            "type": "error",
            "name": "TooBig",
            "inputs": [{"type": "uint256", "name": "v"}, {"type": "uint256", "name": "max"}],
        }
    ]
    custom = (
        keccak(text="TooBig(uint256,uint256)")[:4] + (2000).to_bytes(32, "big") + (1000).to_bytes(32, "big")
    )
    assert decode_revert(custom, abi) == "TooBig(2000, 1000)"
    assert decode_revert(custom).startswith("custom error 0x" + custom[:4].hex())
    assert decode_revert(b"") == "reverted without a reason"


def test_encode_call_and_deploy() -> None:
    abi = [
        {"type": "constructor", "inputs": [{"type": "address", "name": "owner"}]},
        {"type": "function", "name": "set", "inputs": [{"type": "uint256", "name": "v"}], "outputs": []},
    ]
    assert encode_call(abi, "set", 5).hex() == "60fe47b1" + "00" * 31 + "05"
    assert encode_deploy(abi, b"\x60\x00", A_CS) == b"\x60\x00" + bytes(12) + bytes.fromhex(A[2:])
