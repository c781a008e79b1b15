"""CallFrame and Log are built by a quicker ``__init__`` than the dataclass's own (screening builds
one per call and per log of every pending transaction): it must keep the dataclass's contract —
the same parameters and defaults, keywords, immutability, equality, ``replace`` and pickling."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from typing import Any

import pytest

from bulwark.domain import Address, CallFrame, Hash32, Log, TxHash


@pytest.mark.parametrize("cls", [CallFrame, Log])
def test_the_init_takes_the_fields_with_their_defaults(cls: type[Any]) -> None:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = dataclasses.fields(cls)
    assert [p.name for p in params] == [f.name for f in fields]
    assert [p.default for p in params] == [
        inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default for f in fields
    ]


def test_a_quickly_built_frame_is_still_a_frozen_dataclass() -> None:
    a = Address("0x" + "11" * 20)
    leaf = CallFrame("STATICCALL", a, a, 0, b"\x01", b"", 7)
    frame = CallFrame(
        type="CALL", sender=a, to=None, value=5, input=b"", output=b"\x02", gas_used=9, calls=(leaf,)
    )
    assert (frame.value, frame.error, frame.revert_reason, frame.calls) == (5, None, None, (leaf,))
    assert frame == CallFrame("CALL", a, None, 5, b"", b"\x02", 9, None, None, (leaf,))
    assert hash(frame) == hash(CallFrame("CALL", a, None, 5, b"", b"\x02", 9, None, None, (leaf,)))
    assert dataclasses.replace(frame, value=6).value == 6
    assert pickle.loads(pickle.dumps(frame)) == frame
    with pytest.raises(dataclasses.FrozenInstanceError):
        frame.value = 1  # type: ignore[misc]
    with pytest.raises(TypeError, match="gas_used"):
        CallFrame("CALL", a, None, 5, b"", b"")  # type: ignore[call-arg]
    log = Log(a, (Hash32("0x" + "00" * 32),), b"", 1, Hash32("0x" + "ab" * 32), TxHash("0x" + "cd" * 32), 0)
    assert log.removed is False and dataclasses.replace(log, removed=True).removed is True
