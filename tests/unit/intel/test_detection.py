"""Intel as detection input: a fresh exploit contract (same code, other immutables) is caught by its
fingerprint, not its code hash; call patterns match in order; the monitor gains the intel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.unit.detect.synth import ATTACKER, LENDING, ORACLE, addr, call, event, make_view

from bulwark.app.intel import detection_params, monitor_with_intel
from bulwark.chain.bytecode import bytecode_fingerprint, code_hash
from bulwark.detect.builtins.indicators import IndicatorMatch
from bulwark.detect.builtins.intel_fingerprint import ExploitFingerprint
from bulwark.detect.setup import Monitor
from bulwark.domain import Address
from bulwark.intel.indicators import Indicator, IndicatorKind
from bulwark.intel.subscribe import Intel

PUB = Address("0x" + "11" * 20)


def _runtime(owner: bytes) -> bytes:
    """PUSH20 <owner> PUSH1 0 SSTORE PUSH32 <immutable> POP STOP + a CBOR-like metadata trailer."""
    body = b"\x73" + owner + b"\x60\x00\x55" + b"\x7f" + owner.rjust(32, b"\0") + b"\x50\x00"
    meta = b"\xa2" + b"\x11" * 10
    return body + meta + len(meta).to_bytes(2, "big")


def _deploy(code: bytes, deployer: Address = ATTACKER) -> dict:
    return call(deployer, addr(0xC1), typ="CREATE", output=code)


def _intel(*pairs: tuple[IndicatorKind, str]) -> Intel:
    now = datetime.now(UTC)
    return Intel(tuple((PUB, Indicator(k, v, now, now + timedelta(days=1))) for k, v in pairs), ())


def test_a_fresh_copy_with_other_immutables_matches_the_fingerprint_not_the_hash() -> None:
    seen, fresh = _runtime(b"\xaa" * 20), _runtime(b"\xbb" * 20)
    assert code_hash(seen) != code_hash(fresh) and bytecode_fingerprint(seen) == bytecode_fingerprint(fresh)
    intel = _intel(
        (IndicatorKind.CODE_HASH, code_hash(seen)),
        (IndicatorKind.CODE_FINGERPRINT, bytecode_fingerprint(seen)),
    )
    params = detection_params(intel)
    by_hash = IndicatorMatch.from_settings(params["indicator-match"])
    by_shape = ExploitFingerprint.from_settings(params["exploit-fingerprint"])
    view = make_view()
    ev = event(_deploy(fresh), sender=addr(0xA9))
    assert list(by_hash(view, ev)) == []
    found = list(by_shape(view, ev))
    assert len(found) == 1 and found[0].pending and found[0].evidence["address"] == addr(0xC1)
    # another program (a byte of logic changed) does not match
    other = bytearray(fresh)
    other[21 + 1] = 0x01  # PUSH1 0 -> PUSH1 1
    assert list(by_shape(view, event(_deploy(bytes(other))))) == []


def test_a_call_pattern_matches_in_order_on_protected_contracts_only() -> None:
    pattern = ("0x11111111", "0x22222222")
    det = ExploitFingerprint.from_settings({"call_patterns": [pattern]})
    view = make_view()

    def tx(first: str, second: str, target: Address = ORACLE) -> dict:
        return call(ATTACKER, addr(0xC2), calls=[
            call(addr(0xC2), target, args=bytes.fromhex(first[2:])),
            call(addr(0xC2), LENDING, args=bytes.fromhex("33333333")),
            call(addr(0xC2), target, args=bytes.fromhex(second[2:])),
        ])  # fmt: skip

    assert len(list(det(view, event(tx(*pattern))))) == 1
    assert list(det(view, event(tx(pattern[1], pattern[0])))) == []
    assert list(det(view, event(tx(*pattern, target=addr(0xEE))))) == []  # not our contract


def test_the_monitor_keeps_its_thresholds_and_gains_the_intel() -> None:
    view = make_view()
    mine = IndicatorMatch.from_settings({"addresses": [addr(0xD1)]})
    fp = ExploitFingerprint.from_settings({"fingerprints": ["0x" + "cd" * 32]})
    intel = _intel((IndicatorKind.ACCOUNT, addr(0xD2)), (IndicatorKind.CODE_FINGERPRINT, "0x" + "ab" * 32))
    out = monitor_with_intel(Monitor("m", view.protocol, (mine, fp), 60, True), intel)
    by_name = {d.ARGUMENT: d for d in out.detectors}
    assert by_name["indicator-match"].params.addresses == {addr(0xD1), addr(0xD2)}  # type: ignore[attr-defined]
    assert by_name["exploit-fingerprint"].params.fingerprints == {  # type: ignore[attr-defined]
        "0x" + "cd" * 32,
        "0x" + "ab" * 32,
    }
    # a monitor that disabled a detector keeps it disabled
    alone = monitor_with_intel(Monitor("m", view.protocol, (mine,), 60, True), intel)
    assert [d.ARGUMENT for d in alone.detectors] == ["indicator-match"]


def test_subscriptions_refresh_the_running_detectors_in_place(tmp_path: Path) -> None:
    from bulwark.app.intel import Subscriptions
    from bulwark.chain import Signer
    from bulwark.config.intel import IntelConfig
    from bulwark.intel.bundle import build_bundle
    from bulwark.intel.feeds import FileFeed
    from bulwark.store import Store

    pub = Signer("0x" + "01" * 32)
    view = make_view()
    mine = IndicatorMatch.from_settings({"addresses": [addr(0xD1)]})
    cfg = IntelConfig.model_validate({"publishers": [pub.address], "feeds": {"f": {"file": "feed"}}})
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    subs = Subscriptions(cfg, tmp_path, [Monitor("m", view.protocol, (mine,), 60, True)], store)
    running = subs.monitors[0].detectors[0]
    asyncio.run(subs.refresh())  # no feed yet: configured thresholds only
    assert running.params.addresses == {addr(0xD1)}  # type: ignore[attr-defined]
    now = datetime.now(UTC).replace(microsecond=0)
    flagged = Indicator(IndicatorKind.ACCOUNT, addr(0xD2), now, now + timedelta(days=1))
    FileFeed(tmp_path / "feed").publish(build_bundle([flagged], pub))
    asyncio.run(subs.refresh())
    assert subs.monitors[0].detectors[0] is running  # the screener's object, updated in place
    assert running.params.addresses == {addr(0xD1), addr(0xD2)}  # type: ignore[attr-defined]
    store.close()
