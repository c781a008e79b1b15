"""The EIP-1967 slots are what the standard derives, and the one definition everyone reads."""

from eth_utils.crypto import keccak

from bulwark.chain import eip1967
from bulwark.detect.statediff import EIP1967_SLOTS


def test_each_slot_is_keccak_of_its_name_minus_one() -> None:
    for name, slot in eip1967.SLOTS.items():
        expected = int.from_bytes(keccak(text=f"eip1967.proxy.{name}"), "big") - 1
        assert int(slot, 16) == expected, name
        assert slot == "0x" + expected.to_bytes(32, "big").hex()  # 32 bytes, lower case, as RPC wants
    assert list(eip1967.SLOTS) == ["implementation", "admin", "beacon"]


def test_the_state_diff_labels_are_the_same_slots() -> None:
    assert {
        int(eip1967.IMPLEMENTATION_SLOT, 16): "EIP-1967 implementation slot",
        int(eip1967.ADMIN_SLOT, 16): "EIP-1967 admin slot",
        int(eip1967.BEACON_SLOT, 16): "EIP-1967 beacon slot",
    } == EIP1967_SLOTS
