"""``paused()`` read once for everyone: a bool word answers, anything else is an error (a caller
deciding to pause or unpause must not read an EOA's empty answer as "not paused")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bulwark.chain.timelock import is_paused
from bulwark.errors import ChainError

TARGET = "0x" + "11" * 20


class FakeClient:
    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.calls: list[Any] = []

    async def call(self, tx: Any, **_kw: Any) -> bytes:
        self.calls.append(tx)
        return self.answer


def _read(answer: bytes) -> tuple[bool, FakeClient]:
    client = FakeClient(answer)
    return asyncio.run(is_paused(client, TARGET)), client  # type: ignore[arg-type]


def test_a_bool_word_answers() -> None:
    paused, client = _read((1).to_bytes(32, "big"))
    assert paused is True
    assert client.calls[0].data == bytes.fromhex("5c975abb")  # paused()
    assert _read(bytes(32))[0] is False


@pytest.mark.parametrize("answer", [b"", (2).to_bytes(32, "big"), bytes(64), b"\x01" + bytes(31)])
def test_anything_else_is_an_error_naming_the_target(answer: bytes) -> None:
    with pytest.raises(ChainError, match=r"answered paused\(\) with .*Pausable"):
        _read(answer)
