"""Where a CREATE deploys: keccak(rlp([sender, nonce]))[12:], checked against known vectors."""

from __future__ import annotations

from bulwark.chain.bytecode import create_address
from bulwark.intel.indicators import create_address as intel_create_address


def test_known_create_addresses() -> None:
    sender = "0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0"
    assert create_address(sender, 0).lower() == "0xcd234a471b72ba2f1ccf0a70fcaba648a5eecd8d"
    assert create_address(sender, 1).lower() == "0x343c43a37d37dff08ae8c4a11544c718abb4fcf8"
    assert create_address(sender, 2).lower() == "0xf778b86fa74e846c4f0a1fbd1335fe81c00a0c91"


def test_intel_uses_the_same_function() -> None:
    assert intel_create_address is create_address
