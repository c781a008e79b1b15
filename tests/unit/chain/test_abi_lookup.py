"""Finding a function in an ABI: by name (overloads told apart by argument count) or by signature."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from bulwark.chain.abi import encode_call, find_function
from bulwark.errors import ChainError

ABI = [
    {"type": "function", "name": "transfer", "inputs": [{"type": "address"}, {"type": "uint256"}]},
    {"type": "function", "name": "mint", "inputs": [{"type": "uint256"}]},
    {"type": "function", "name": "mint", "inputs": [{"type": "address"}, {"type": "uint256"}]},
    {"type": "function", "name": "mint", "inputs": [{"type": "uint256"}, {"type": "address"}]},
    {"type": "event", "name": "transfer", "inputs": [{"type": "address"}]},
]


def test_by_name_picks_the_overload_with_that_many_arguments() -> None:
    assert find_function(ABI, "mint", 1)["inputs"] == [{"type": "uint256"}]
    assert find_function(ABI, "transfer")["inputs"][0]["type"] == "address"  # the event is no function


def test_by_signature_tells_apart_overloads_of_one_arity() -> None:
    assert find_function(ABI, "mint(uint256,address)")["inputs"][0]["type"] == "uint256"
    assert find_function(ABI, "mint(address,uint256)")["inputs"][0]["type"] == "address"
    data = encode_call(ABI, "mint(uint256,address)", 5, "0x" + "11" * 20)
    assert data[:4] == keccak(text="mint(uint256,address)")[:4]


@pytest.mark.parametrize(("name", "count"), [("mint", 2), ("burn", 1), ("mint(uint8)", None)])
def test_ambiguous_or_missing_is_an_error(name: str, count: int | None) -> None:
    with pytest.raises(ChainError, match="function"):
        find_function(ABI, name, count)
