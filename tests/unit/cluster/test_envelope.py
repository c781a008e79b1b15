"""Transactions on the bus: the envelope round-trips, subjects and dedup ids partition by network."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bulwark.chain.bus import TxEnvelope, decode_tx, encode_tx, network_token
from bulwark.domain import Address, Hash32, Transaction, TxHash

_hex32 = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
_addr = st.binary(min_size=20, max_size=20).map(lambda b: Address("0x" + b.hex()))
_u256 = st.integers(min_value=0, max_value=2**256 - 1)
_opt = st.none() | _u256


@settings(derandomize=True, max_examples=200)
@given(
    h=_hex32, sender=_addr, to=st.none() | _addr, value=_u256, data=st.binary(max_size=200),
    nonce=st.integers(0, 2**64 - 1), gas=st.integers(0, 2**64 - 1), fee=_opt, tip=_opt, price=_opt,
    block=st.none() | st.tuples(st.integers(0, 2**40), _hex32, st.integers(0, 10_000)),
    seen=st.floats(min_value=0, max_value=4e9, allow_nan=False),
)  # fmt: skip
def test_envelope_round_trips(
    h: str, sender: Address, to: Address | None, value: int, data: bytes, nonce: int, gas: int,
    fee: int | None, tip: int | None, price: int | None, block: tuple[int, str, int] | None, seen: float,
) -> None:  # fmt: skip
    from eth_utils.address import to_checksum_address

    tx = Transaction(
        hash=TxHash(h), sender=Address(to_checksum_address(sender)),
        to=Address(to_checksum_address(to)) if to else None, value=value, data=data, nonce=nonce, gas=gas,
        max_fee_per_gas=fee, max_priority_fee_per_gas=tip, gas_price=price,
        block_number=block[0] if block else None, transaction_index=block[2] if block else None,
    )  # fmt: skip
    env = TxEnvelope("main.net", tx, seen, Hash32(block[1]) if block else None)
    assert decode_tx(encode_tx(env)) == env


def test_subjects_and_ids_partition_by_network() -> None:
    tx = Transaction(TxHash("0x" + "ab" * 32), Address("0x" + "11" * 20), None, 0, b"", 0, 21000)
    pending = TxEnvelope("eth.main", tx, 1.0)
    mined = TxEnvelope("eth.main", tx, 1.0, Hash32("0x" + "cd" * 32))
    assert pending.subject == "bulwark.tx.eth~main.pending"  # '.' would split the subject token
    assert mined.subject == "bulwark.tx.eth~main.mined"
    assert network_token("eth-main") != network_token("eth.main")
    assert pending.msg_id != mined.msg_id  # a tx seen pending is judged again once mined


def test_addresses_come_back_checksummed_and_malformed_input_is_refused() -> None:
    import json

    import pytest

    tx = Transaction(TxHash("0x" + "ab" * 32), Address("0x" + "11" * 20), None, 0, b"\x01", 0, 21000)
    body = json.loads(encode_tx(TxEnvelope("net", tx, 1.0)))
    body["tx"]["from"] = "0x" + "ab" * 20  # lower case, as another producer might write it
    body["tx"]["to"] = "0x" + "cd" * 20
    back = decode_tx(json.dumps(body).encode()).tx
    assert back.sender == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert back.to == "0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD"
    body["tx"]["input"] = "01"  # not 0x hex: refused, never read as other bytes
    with pytest.raises(ValueError, match="not 0x hex"):
        decode_tx(json.dumps(body).encode())
