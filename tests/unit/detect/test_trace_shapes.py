"""The call trace parses the same whether the node's answer was decoded into TraceFrame structs
(the batching transport does that) or arrives as plain JSON (other transports, a chain of pending
transactions, tests): checked against a small reference of the callTracer's meaning on random
trees. A malformed answer is a simulation failure (screening goes on), not a KeyError."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulwark.detect.base import SimulationFailed
from bulwark.detect.evm import checksum
from bulwark.detect.trace import TraceFrame, parse_call_trace
from bulwark.domain import TxHash

TX = TxHash("0x" + "cd" * 32)
ADDRS = ["0x" + c * 40 for c in "0123abcdef"]
hexes = st.binary(max_size=40).map(lambda b: "0x" + b.hex())
topics = st.lists(st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex().upper()), max_size=3)
MISSING = object()  # a field left out of the JSON


def put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not MISSING:
        out[key] = value


@st.composite
def logs(draw: st.DrawFn, children: int) -> list[dict[str, Any]]:
    """A frame's logs in emission order: ``position`` (child calls made before it) never falls."""
    positions = sorted(draw(st.lists(st.integers(0, children), max_size=3)))
    out: list[dict[str, Any]] = []
    for position in positions:
        log: dict[str, Any] = {"address": draw(st.sampled_from(ADDRS)), "position": hex(position)}
        put(log, "topics", draw(st.one_of(topics, st.sampled_from([None, MISSING]))))
        put(log, "data", draw(st.one_of(hexes, st.sampled_from([None, MISSING]))))
        out.append(log)
    return out


def frames(depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def frame(draw: st.DrawFn) -> dict[str, Any]:
        calls = draw(st.lists(frames(depth + 1), max_size=3)) if depth < 3 else []
        out: dict[str, Any] = {
            "type": draw(st.sampled_from(["CALL", "STATICCALL", "DELEGATECALL", "CREATE", "call"])),
            "from": draw(st.sampled_from(ADDRS)),
            "to": draw(st.sampled_from(ADDRS)),
            "value": hex(draw(st.integers(0, 2**256 - 1))),
            "gas": "0x5208",  # a field nobody reads
            "gasUsed": hex(draw(st.integers(0, 2**30))),
        }
        # null and absent alike where a node may leave a field out (an empty list, no data)
        put(out, "input", draw(st.one_of(hexes, st.sampled_from([None, MISSING]))))
        put(out, "output", draw(st.one_of(hexes, st.sampled_from([None, MISSING]))))
        if draw(st.booleans()):
            out["error"] = "execution reverted"
        put(out, "calls", calls or draw(st.sampled_from([None, MISSING, []])))
        put(out, "logs", draw(logs(len(calls))) or draw(st.sampled_from([None, MISSING, []])))
        return out

    return frame()


def reference(raw: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The steps as the callTracer means them: a frame, then its logs and children interleaved
    (a log at ``position`` p comes after the frame's first p children); reverted below an error."""
    out: list[tuple[Any, ...]] = []

    def walk(f: dict[str, Any], depth: int, ctx: str | None, failed: bool) -> None:
        failed = failed or "error" in f
        to = checksum(f["to"])
        here = ctx if f["type"].upper() == "DELEGATECALL" else to
        data = bytes.fromhex((f.get("input") or "0x")[2:]) + bytes.fromhex((f.get("output") or "0x")[2:])
        out.append(("call", depth, here, failed, checksum(f["from"]), to, int(f["value"], 16), data))
        children, logs = f.get("calls") or [], f.get("logs") or []
        for i in range(len(children) + 1):
            for lg in (lg for lg in logs if int(lg["position"], 16) == i):
                topics = tuple(t.lower() for t in lg.get("topics") or ())
                out.append(
                    (
                        "log",
                        depth,
                        here,
                        failed,
                        checksum(lg["address"]),
                        topics,
                        bytes.fromhex((lg.get("data") or "0x")[2:]),
                    )
                )
            if i < len(children):
                walk(children[i], depth + 1, here, failed)

    walk(raw, 0, None, False)
    return out


def observed(raw: Any) -> list[tuple[Any, ...]]:
    root, steps = parse_call_trace(raw, TX)
    out: list[tuple[Any, ...]] = []
    for s in steps:
        if s.frame is not None:
            f = s.frame
            out.append((s.kind, s.depth, s.context, s.reverted, f.sender, f.to, f.value, f.input + f.output))
        else:
            assert s.log is not None
            out.append((s.kind, s.depth, s.context, s.reverted, s.log.address, s.log.topics, s.log.data))
    # the call steps are the tree's frames, depth first; the logs are numbered in order
    assert [s.frame for s in steps if s.frame is not None] == [f for _, f in root.walk()]
    assert [s.log.log_index for s in steps if s.log is not None] == list(
        range(sum(s.log is not None for s in steps))
    )
    return out


@settings(max_examples=150, derandomize=True, deadline=None)
@given(frames())
def test_structs_and_plain_json_parse_alike_and_as_the_tracer_means(raw: dict[str, Any]) -> None:
    decoded = msgspec.json.decode(msgspec.json.encode(raw), type=TraceFrame)
    expected = reference(raw)
    assert observed(decoded) == expected
    assert observed(raw) == expected
    assert parse_call_trace(decoded, TX) == parse_call_trace(raw, TX)


def test_frame_fields_are_decoded_from_the_nodes_hex() -> None:
    raw = {
        "type": "call",
        "from": ADDRS[1],
        "to": ADDRS[2],
        "value": "0x10",
        "gasUsed": "0x5208",
        "input": "0xa9059cbb",
        "output": "0x01",
        "revertReason": "nope",
        "error": "execution reverted",
    }
    root, _ = parse_call_trace(msgspec.json.decode(msgspec.json.encode(raw), type=TraceFrame), TX)
    assert (root.type, root.sender, root.to, root.value, root.gas_used) == (
        "CALL",
        checksum(ADDRS[1]),
        checksum(ADDRS[2]),
        16,
        21000,
    )
    assert (root.input, root.output, root.error, root.revert_reason) == (
        bytes.fromhex("a9059cbb"),
        b"\x01",
        "execution reverted",
        "nope",
    )


@pytest.mark.parametrize(
    "raw", [None, {"type": "CALL"}, {"type": "CALL", "from": ADDRS[0], "calls": [{"from": ADDRS[1]}]}]
)
def test_a_malformed_trace_is_a_simulation_failure(raw: Any) -> None:
    with pytest.raises(SimulationFailed, match=r"call trace of 0xcdcd.* is malformed"):
        parse_call_trace(raw, TX)
