"""k-of-n sentinel consensus on a real guardian: 2-of-3, peers as separate processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from eth_account import Account

from bulwark.app.intel import ConsensusResponder, ConsensusSettings
from bulwark.chain import ChainClient, Signer, encode_call
from bulwark.chain.client import CallReverted
from bulwark.chain.relayer import Relayer
from bulwark.chain.timelock import PAUSER_ROLE
from bulwark.detect.report import finding_json
from bulwark.domain import Address, Confidence, Finding, Severity, TxHash, VulnClass
from bulwark.respond import ProtectedSet
from bulwark.respond.consensus import ConsensusError, PauseRequest, finding_id, gather, sign_pause
from bulwark.scenarios.deploy import ChainOps, deploy_protocol
from bulwark.scenarios.governance import exec_via_safe
from bulwark.scenarios.protocol import Actor, DemoProtocol
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e
T = TypeVar("T")
SECRET = "consensus-channel-secret-for-tests"
KEYS = [f"0x{i:064x}" for i in (0xB0A1, 0xB0A2, 0xB0A3)]
TARGET = "vault"


@dataclass
class Env:
    node: Anvil
    client: ChainClient
    protocol: DemoProtocol
    guardian: Address
    abi: Any
    loop: asyncio.AbstractEventLoop
    peers: list[subprocess.Popen[str]]
    peer_urls: list[str]

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    @property
    def ops(self) -> ChainOps:
        return ChainOps(self.client)

    def actor(self, i: int) -> Actor:
        acct = Account.from_key(KEYS[i])
        return Actor(f"sentinel{i}", Address(acct.address), KEYS[i])

    def send(self, actor: Actor, fn: str, *args: Any) -> Any:
        return self.run(self.ops.transact(actor, self.guardian, self.abi, fn, *args))

    def call(self, fn: str, *args: Any) -> Any:
        return self.run(self.ops.call(self.guardian, self.abi, fn, *args))

    def as_owner(self, fn: str, *args: Any) -> None:
        """The guardian's owner is the timelock: schedule and execute through the Safe (delay 0)."""
        p = self.protocol
        data = encode_call(self.abi, fn, *args)
        salt = os.urandom(32)
        for step in ("schedule", "execute"):
            extra = (0,) if step == "schedule" else ()
            call = encode_call(p.timelock.abi, step, self.guardian, 0, data, b"\0" * 32, salt, *extra)
            self.run(exec_via_safe(self.client, p, p.timelock.address, call, p.safe_owners[:2]))

    def paused(self) -> bool:
        p = self.protocol
        return bool(self.run(self.ops.call(p.address(TARGET), p.abi(TARGET), "paused")))

    def now(self) -> int:
        return self.run(self.client.get_block("latest")).timestamp


def _start_peer(env_vars: dict[str, str], i: int, rpc: str, guardian: str, chain_id: int) -> tuple[Any, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bulwark.respond.peer",
            "--key",
            f"env:PEER_KEY_{i}",
            "--secret-env",
            "PEER_SECRET",
            "--rpc",
            rpc,
            "--guardian",
            guardian,
            "--chain-id",
            str(chain_id),
        ],
        env=env_vars | {f"PEER_KEY_{i}": KEYS[i], "PEER_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening"):
        proc.kill()
        raise RuntimeError(f"peer {i} did not start: {line} {proc.stderr.read() if proc.stderr else ''}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


@pytest.fixture(scope="module")
def cenv() -> Iterator[Env]:
    loop = asyncio.new_event_loop()
    peers: list[subprocess.Popen[str]] = []
    with Anvil(AnvilOptions()) as node, Compiler() as compiler:
        client = ChainClient(node.http_url)
        try:
            p = loop.run_until_complete(deploy_protocol(client, compiler, node.accounts))
            art = next(
                a
                for a in compiler.compile_files(
                    [Path("contracts/guardian/BulwarkConsensusGuardian.sol")]
                ).contracts
                if a.name == "BulwarkConsensusGuardian"
            )
            ops = ChainOps(client)
            for k in KEYS:
                loop.run_until_complete(client.set_balance(Address(Account.from_key(k).address), 10**20))
            g = loop.run_until_complete(ops.deploy(p.deployer, art, p.deployer.address, 30 * 24 * 3600))
            env = Env(node, client, p, g, art.abi, loop, peers, [])
            for k in KEYS:
                env.send(p.deployer, "setSentinel", Account.from_key(k).address, True)
            env.send(p.deployer, "setProtected", p.address(TARGET), True)
            env.send(p.deployer, "setConsensus", 2, False)
            env.send(p.deployer, "transferOwnership", p.timelock.address)
            grant = encode_call(p.abi(TARGET), "grantRole", PAUSER_ROLE, g)
            salt = b"\1" * 32
            for step in ("schedule", "execute"):
                extra = (0,) if step == "schedule" else ()
                call = encode_call(
                    p.timelock.abi, step, p.address(TARGET), 0, grant, b"\0" * 32, salt, *extra
                )
                loop.run_until_complete(exec_via_safe(client, p, p.timelock.address, call, p.safe_owners[:2]))
            base = dict(os.environ)
            for i in (1, 2):
                proc, url = _start_peer(base, i, node.http_url, g, p.chain_id)
                peers.append(proc)
                env.peer_urls.append(url)
            yield env
        finally:
            for proc in peers:
                proc.terminate()
                proc.wait(timeout=10)
            loop.run_until_complete(client.close())
            loop.close()


@pytest.fixture
def env(cenv: Env) -> Iterator[Env]:
    snap = cenv.run(cenv.client.snapshot())
    try:
        yield cenv
    finally:
        cenv.run(cenv.client.revert(snap))


def _request(env: Env, *, severity: str = "critical", ttl: int = 600, tag: str = "a") -> PauseRequest:
    finding = {"detector": "oracle-deviation", "severity": severity, "tx": "0x" + tag * 64}
    return PauseRequest(
        chain_id=env.protocol.chain_id,
        guardian=env.guardian,
        target=env.protocol.address(TARGET),
        selectors=(),
        finding_id=finding_id(finding),
        deadline=int(time.time()) + ttl,
        finding=finding,
    )


def _submit(env: Env, req: PauseRequest, sigs: list[bytes], who: int = 0) -> Any:
    fid = bytes.fromhex(req.finding_id[2:])
    return env.send(env.actor(who), "pauseWithConsensus", req.target, [], fid, req.deadline, sigs)


def test_two_sentinels_signing_pause_and_the_digest_matches_the_chain(env: Env) -> None:
    req = _request(env)
    on_chain = env.call("pauseDigest", req.target, [], bytes.fromhex(req.finding_id[2:]), req.deadline)
    assert "0x" + bytes(on_chain).hex() == "0x" + req.digest().hex()
    got = env.run(gather(req, Signer(KEYS[0]), env.peer_urls, SECRET.encode(), threshold=2))
    assert len(got.signatures) == 2
    assert not env.paused()
    _submit(env, req, got.ordered())
    assert env.paused()
    # the same approval cannot be used twice (e.g. to re-pause after governance resumes)
    with pytest.raises(CallReverted, match="AlreadyConsumed"):
        _submit(env, req, got.ordered())


def test_one_sentinel_alone_cannot_pause(env: Env) -> None:
    req = _request(env)
    with pytest.raises(CallReverted, match="NotEnoughSignatures"):
        _submit(env, req, [sign_pause(req, Signer(KEYS[0]))])
    with pytest.raises(CallReverted, match="ConsensusRequired"):
        env.send(env.actor(0), "pause", env.protocol.address(TARGET))
    with pytest.raises(CallReverted, match="SingleCriticalDisabled"):
        env.send(env.actor(0), "pauseCritical", env.protocol.address(TARGET), [], b"\1" * 32)
    # the same signature twice is still one sentinel
    sig = sign_pause(req, Signer(KEYS[0]))
    with pytest.raises(CallReverted, match="SignersNotSorted"):
        _submit(env, req, [sig, sig])
    # and the peers refuse a finding their own policy does not back (below their min severity)
    with pytest.raises(ConsensusError) as refused:
        env.run(
            gather(
                _request(env, severity="low"), Signer(KEYS[0]), env.peer_urls, SECRET.encode(), threshold=2
            )
        )
    assert "only 1 of the 2" in refused.value.user_message
    assert str(refused.value).count("judge disagrees") == 2
    # a request with the wrong channel secret is refused by every peer
    with pytest.raises(ConsensusError) as bad_mac:
        env.run(gather(_request(env), Signer(KEYS[0]), env.peer_urls, b"wrong", threshold=2))
    assert str(bad_mac.value).count("bad mac") == 2
    assert not env.paused()


def test_signature_over_another_finding_or_past_its_deadline_is_refused_on_chain(env: Env) -> None:
    req = _request(env, tag="b")
    sigs = env.run(gather(req, Signer(KEYS[0]), env.peer_urls, SECRET.encode(), threshold=2)).ordered()
    other = _request(env, tag="c")
    with pytest.raises(CallReverted, match="SignerNotSentinel"):
        env.send(
            env.actor(0),
            "pauseWithConsensus",
            req.target,
            [],
            bytes.fromhex(other.finding_id[2:]),
            req.deadline,
            sigs,
        )
    env.run(env.client.request("evm_increaseTime", [req.deadline - env.now() + 5]))
    env.run(env.client.mine())
    with pytest.raises(CallReverted, match="SignatureExpired"):
        _submit(env, req, sigs)
    assert not env.paused()


def test_one_sentinel_down_does_not_stop_the_pause(env: Env) -> None:
    env.peers[1].terminate()
    env.peers[1].wait(timeout=10)
    try:
        req = _request(env, tag="d")
        got = env.run(gather(req, Signer(KEYS[0]), env.peer_urls, SECRET.encode(), threshold=2))
        _submit(env, req, got.ordered(), who=1)
        assert env.paused()
        assert {s.lower() for s, _ in got.signatures} == {
            env.actor(0).address.lower(),
            env.actor(1).address.lower(),
        }
    finally:
        proc, url = _start_peer(dict(os.environ), 2, env.node.http_url, env.guardian, env.protocol.chain_id)
        env.peers[1], env.peer_urls[1] = proc, url


def test_the_owner_may_let_one_sentinel_pause_critical_findings(env: Env) -> None:
    env.as_owner("setConsensus", 2, True)
    env.send(env.actor(2), "pauseCritical", env.protocol.address(TARGET), [], b"\2" * 32)
    assert env.paused()
    # a non-sentinel still cannot
    with pytest.raises(CallReverted, match="NotSentinel"):
        env.send(env.protocol.users[0], "pauseCritical", env.protocol.address(TARGET), [], b"\2" * 32)


def _finding(env: Env, severity: Severity) -> Finding:
    return Finding(
        detector="exploit-fingerprint",
        vuln_class=VulnClass.KNOWN_ATTACKER,
        severity=severity,
        confidence=Confidence.HIGH,
        title="deploys a known exploit contract",
        protocol="demo",
        contract=None,
        tx_hash=TxHash("0x" + "e1" * 32),
        pending=True,
    )


def test_the_responder_in_consensus_mode_gathers_two_of_three_and_pauses(env: Env, tmp_path: Path) -> None:
    target = env.protocol.address(TARGET)
    relayer = Relayer(env.client, Signer(KEYS[0]))
    env.run(relayer.start())
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    protected = [ProtectedSet("demo", env.guardian, (target,))]
    down = "http://127.0.0.1:9"  # nothing listens there: a sentinel that is down

    # Alone (both peers unreachable): no pause is sent, and the failure is on the record.
    alone = ConsensusSettings(2, (down, down + "/"), SECRET.encode(), timeout_s=1.0)
    lonely = ConsensusResponder(
        relayer, protected, alone, chain_id=env.protocol.chain_id, store=store, finding_json=finding_json
    )
    [failed] = env.run(lonely.respond(_finding(env, Severity.CRITICAL)))
    assert failed.tx_hash is None and failed.error and "only 1 of the 2" in failed.error
    assert not env.paused()

    # One peer down, one up: two of three sign; the policy's pause goes out as pauseWithConsensus.
    settings = ConsensusSettings(2, (down, env.peer_urls[0]), SECRET.encode(), timeout_s=2.0)
    responder = ConsensusResponder(
        relayer, protected, settings, chain_id=env.protocol.chain_id, store=store, finding_json=finding_json
    )
    assert env.run(responder.respond(_finding(env, Severity.LOW))) == []  # below the policy: no pause
    [pause] = env.run(responder.respond(_finding(env, Severity.CRITICAL)))
    assert pause.error is None and pause.tx_hash is not None, pause.error
    assert len(pause.signers) == 2 and pause.failures
    receipt = env.run(env.client.wait_for_receipt(pause.tx_hash))
    assert receipt.status and env.paused()
    audited = [e.payload for e in store.audit_entries() if e.kind == "consensus.pause"]
    assert [bool(a["tx"]) for a in audited] == [False, True]
    store.close()


WATCH_CONFIG = """
networks:
  local: {{rpc_http: "env:BULWARK_E2E_RPC", confirmations: 0, poll_interval_s: 0.05, mempool: "off"}}
protocols:
  demo:
    network: local
    contracts: {{vault: {{address: "{vault}"}}}}
monitors:
  m:
    protocol: demo
    rules:
      - {{name: big-value, when: tx, expr: "tx.value >= 5", severity: critical}}
responses:
  sentinel_key: env:SENTINEL_KEY
  guardians: {{demo: "{guardian}"}}
intel:
  consensus:
    threshold: 2
    peers: ["http://127.0.0.1:9", "{peer}"]
    channel_secret: env:CHANNEL_SECRET
"""


def test_watch_in_consensus_mode_pauses_with_two_of_three(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    import structlog

    from bulwark.cli.main import main

    cfg = tmp_path / "bulwark.yaml"
    cfg.write_text(
        WATCH_CONFIG.format(vault=env.protocol.address(TARGET), guardian=env.guardian, peer=env.peer_urls[0])
    )
    monkeypatch.setenv("BULWARK_E2E_RPC", env.node.http_url)
    monkeypatch.setenv("SENTINEL_KEY", KEYS[0])
    monkeypatch.setenv("CHANNEL_SECRET", SECRET)
    head = env.run(env.client.block_number())
    user = env.protocol.users[0]
    tx = {"from": user.address, "to": env.protocol.users[1].address, "value": hex(7)}
    env.run(env.client.request("eth_sendTransaction", [tx]))
    args = ["watch", "-c", str(cfg), "--json", "--state-dir", str(tmp_path / "s")]
    args += ["--db", f"sqlite:///{tmp_path / 'w.db'}"]
    try:
        with pytest.raises(SystemExit) as info:
            main([*args, "--until-block", str(head)])  # the backlog up to the head
        assert info.value.code == 0
        with pytest.raises(SystemExit) as info:
            main([*args, "--until-block", str(head + 1)])
        assert info.value.code == 0
    finally:
        structlog.reset_defaults()
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    pauses = [x for x in lines if x.get("type") == "consensus-pause"]
    sent = [x for x in pauses if x["tx"]]
    assert len(sent) == 1 and len(sent[0]["signers"]) == 2, lines
    # a later round finds nothing left to pause: not an error (the peers rightly refused)
    assert all(x["error"] is None for x in pauses) and all(x["already_paused"] for x in pauses if not x["tx"])
    assert env.paused()
