"""Threat intelligence, composed with the other stages.

``bulwark.intel`` signs, publishes, pulls and verifies indicators; it may not reach into the
other stages. This module is where intelligence meets them:

publish   an incident in the store → its attack transactions → :func:`collect_evidence` (chain
          facts) + the patch stage's localisation of the vulnerable function, abstracted into an
          AST fingerprint → :func:`derive_indicators` → a signed STIX bundle.
act       verified :class:`Intel` → detection input: the ``indicator-match`` detector gets the
          attacker addresses and exact code hashes, ``exploit-fingerprint`` gets the normalised
          bytecode fingerprints and the call patterns (a fresh exploit contract with the same code
          but other immutables is paused before inclusion);
          vulnerable-code indicators → a scan of this protocol's own sources (function shapes,
          confirmed by the patch stage's localisation) → on a match, a pre-emptive patch:
          generate → verify (regression only: there is no attack against us to replay) →
          an upgrade proposal, stored pending for the council like any other.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bulwark.app.contain import policy_from_config, protected_sets_from_config
from bulwark.app.full import _materialise, demo_policy
from bulwark.chain import ChainClient, Signer, TxRequest, encode_call
from bulwark.chain.relayer import GWEI, Relayer, RelayerPolicy
from bulwark.chain.timelock import is_paused
from bulwark.config import BulwarkConfig
from bulwark.config.intel import ConsensusConfig, IntelConfig
from bulwark.config.secrets import BASE_DIR_CONTEXT
from bulwark.detect.base import Detector
from bulwark.detect.builtins.indicators import IndicatorMatch, IndicatorParams
from bulwark.detect.builtins.intel_fingerprint import ExploitFingerprint, FingerprintParams
from bulwark.detect.report import finding_json
from bulwark.detect.setup import Monitor
from bulwark.domain import (
    Action,
    Address,
    Confidence,
    Finding,
    IncidentState,
    Severity,
    Transaction,
    TxHash,
    VulnClass,
)
from bulwark.domain.govern import Policy
from bulwark.errors import BulwarkError, ConfigError
from bulwark.govern import propose_upgrade
from bulwark.intel.bundle import build_bundle
from bulwark.intel.consensus import Gathered, PauseRequest, finding_id, gather
from bulwark.intel.feeds import FileFeed, TaxiiFeed
from bulwark.intel.fingerprint import ast_fingerprint, function_at, function_shapes
from bulwark.intel.indicators import (
    AttackEvidence,
    Indicator,
    IndicatorKind,
    VulnerableCode,
    collect_evidence,
    derive_indicators,
)
from bulwark.intel.subscribe import Intel, pull
from bulwark.logs import get_logger
from bulwark.patch import PatchRequest, generate
from bulwark.patch.engine import analyse
from bulwark.respond import DEFAULT_POLICY, FeeStrategy, ProtectedSet, ResponsePolicy, outbid, plan
from bulwark.scenarios.protocol import DemoProtocol
from bulwark.store import Store
from bulwark.toolchain.solc import Compiler
from bulwark.verify.engine import VerifyRequest, verify
from bulwark.verify.sources import compile_candidate

__all__ = [
    "CodeMatch",
    "ConsensusPause",
    "ConsensusResponder",
    "ConsensusSettings",
    "OwnSource",
    "Preemptive",
    "Subscriptions",
    "UpgradeTarget",
    "consensus_responder_from_config",
    "demo_target",
    "detection_params",
    "evidence_for_incident",
    "feeds_from_config",
    "incident_indicators",
    "intel_from_store",
    "load_intel_config",
    "monitor_with_intel",
    "preemptive_patch",
    "publish_incident",
    "pull_and_remember",
    "remember",
    "remembered",
    "scan_own_code",
    "vulnerable_code",
]

log = get_logger(__name__)

_MIN_SCORE = 0.5  # localisations weaker than this are not published as vulnerable code


class IntelActionError(BulwarkError, RuntimeError):
    """Intelligence could not be turned into an action (an incident with nothing to learn from)."""


# -- publish -------------------------------------------------------------------------------------


def vulnerable_code(
    compiler: Compiler,
    path: Path,
    contract: str | None,
    vuln_class: VulnClass | None = None,
    *,
    use_slither: bool = True,
) -> tuple[VulnerableCode, ...]:
    """The functions the patch stage's localisation blames in ``path``, as name-free AST
    fingerprints (the localisations of ``vuln_class`` when there are any, else the strongest)."""
    analysis = analyse(PatchRequest(paths=[path], contract=contract, use_slither=use_slither), compiler)
    asts = {p: u.ast for p, u in analysis.result.sources.items()}
    found = [f for f in analysis.findings if f.score >= _MIN_SCORE and f.start is not None and f.path in asts]
    if vuln_class is not None and any(f.vuln_class is vuln_class for f in found):
        found = [f for f in found if f.vuln_class is vuln_class]
    out: dict[str, VulnerableCode] = {}
    for f in sorted(found, key=lambda f: -f.score):
        assert f.start is not None and f.path is not None
        node = function_at(asts[f.path], f.start)
        if node is None:
            continue
        fp = ast_fingerprint(node)
        out.setdefault(fp, VulnerableCode(f.vuln_class, fp, str(node.get("kind") or "function")))
    return tuple(out.values())


def _attack_txs(store: Store, incident_id: str) -> list[str]:
    hashes = [str(f.get("tx_hash")) for f in store.findings(incident_id) if f.get("tx_hash")]
    return list(dict.fromkeys(h.lower() for h in hashes))


async def evidence_for_incident(
    client: ChainClient,
    store: Store,
    incident_id: str,
    *,
    victims: Iterable[str],
    attack_txs: Sequence[str] = (),
    vulnerable: Sequence[VulnerableCode] = (),
) -> AttackEvidence:
    """Chain facts of a stored incident: the transactions its findings name (plus ``attack_txs``
    when the caller knows more, e.g. the deployment before the flagged call)."""
    record = store.incident(incident_id)
    hashes = list(dict.fromkeys([*(h.lower() for h in attack_txs), *_attack_txs(store, incident_id)]))
    if not hashes:
        raise IntelActionError(f"incident {incident_id} names no transaction: nothing to learn from")
    try:
        vuln_class: VulnClass | None = VulnClass(record.vuln_class)
    except ValueError:
        vuln_class = None
    return await collect_evidence(client, hashes, victims, vuln_class=vuln_class, vulnerable=vulnerable)


def incident_indicators(evidence: AttackEvidence, *, ttl: timedelta = timedelta(days=30)) -> list[Indicator]:
    return derive_indicators(evidence, ttl=ttl)


async def publish_incident(
    indicators: Sequence[Indicator],
    signer: Signer,
    feed: FileFeed | TaxiiFeed,
    *,
    store: Store | None = None,
    incident_id: str | None = None,
    publisher_name: str = "bulwark",
) -> dict[str, Any]:
    """Sign ``indicators`` into one STIX bundle, put it on ``feed`` and audit it."""
    bundle = build_bundle(indicators, signer, publisher_name=publisher_name, incident_id=incident_id)
    if isinstance(feed, FileFeed):
        where = str(feed.publish(bundle))
    else:
        await feed.publish(bundle)
        where = feed.name
    sig = next(o for o in bundle["objects"] if o["type"] == "x-bulwark-signature")
    if store is not None:
        store.audit(
            "intel.published",
            {
                "feed": where,
                "bundle_hash": sig["x_evm_bundle_hash"],
                "publisher": signer.address,
                "indicators": len(indicators),
            },
            incident_id=incident_id,
        )
    log.info("intel published", feed=where, indicators=len(indicators), bundle_hash=sig["x_evm_bundle_hash"])
    return bundle


# -- act: detection ------------------------------------------------------------------------------


def detection_params(intel: Intel) -> dict[str, dict[str, Any]]:
    """Detector thresholds, by detector ``ARGUMENT``, that put ``intel`` to work."""
    return {
        IndicatorMatch.ARGUMENT: {
            "addresses": {Address(a) for a in intel.addresses},
            "code_hashes": {h.lower() for h in intel.code_hashes},
        },
        ExploitFingerprint.ARGUMENT: {
            "fingerprints": {f.lower() for f in intel.code_fingerprints},
            "call_patterns": intel.call_patterns,
        },
    }


def _merged(det: Detector, extra: Mapping[str, Any]) -> Detector:
    p = det.params
    if isinstance(p, IndicatorParams):
        params: dict[str, Any] = {
            "addresses": set(p.addresses) | set(extra["addresses"]),
            "code_hashes": set(p.code_hashes) | set(extra["code_hashes"]),
        }
    elif isinstance(p, FingerprintParams):
        params = {
            "fingerprints": set(p.fingerprints) | set(extra["fingerprints"]),
            "call_patterns": tuple(dict.fromkeys([*p.call_patterns, *extra["call_patterns"]])),
        }
    else:
        return det
    return type(det).from_settings(params, det.severity)


def monitor_with_intel(monitor: Monitor, intel: Intel) -> Monitor:
    """``monitor`` with its indicator and fingerprint detectors fed by ``intel`` on top of their
    configured thresholds. A monitor without them had them disabled: that choice stands."""
    extra = detection_params(intel)
    detectors = tuple(_merged(d, extra[d.ARGUMENT]) if d.ARGUMENT in extra else d for d in monitor.detectors)
    return dataclasses.replace(monitor, detectors=detectors)


# -- act: our own code ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OwnSource:
    """One of this protocol's contracts: the component it implements, and its source."""

    component: str
    path: Path
    contract: str


@dataclass(frozen=True, slots=True)
class CodeMatch:
    source: OwnSource
    function: str
    fingerprint: str
    indicator: Indicator
    localised: bool  # the patch stage's localisation also blames this function


def scan_own_code(
    sources: Sequence[OwnSource], intel: Intel, compiler: Compiler, *, use_slither: bool = False
) -> list[CodeMatch]:
    """Functions of our own contracts whose AST shape matches a published vulnerable-code
    fingerprint, each checked against the patch stage's localisation (its own checks; Slither's
    too when asked: the shape is the evidence, the localisation a second opinion)."""
    wanted = {i.value.lower(): i for i in intel.vulnerable_code}
    if not wanted:
        return []
    out: list[CodeMatch] = []
    for src in sources:
        request = PatchRequest(paths=[src.path], contract=src.contract, use_slither=use_slither)
        analysis = analyse(request, compiler)
        blamed = {(f.contract, f.function) for f in analysis.findings if f.score >= _MIN_SCORE}
        for unit, compiled in analysis.result.sources.items():
            for shape in function_shapes(unit, compiled.ast):
                ind = wanted.get(shape.fingerprint.lower())
                if ind is None or shape.contract != src.contract:
                    continue
                localised = (shape.contract, shape.function) in blamed
                out.append(CodeMatch(src, shape.function, shape.fingerprint, ind, localised))
                log.warning(
                    "vulnerable code matched",
                    component=src.component,
                    function=f"{shape.contract}.{shape.function}",
                    fingerprint=shape.fingerprint,
                    localised=localised,
                )
    return out


def flag_match(store: Store, match: CodeMatch, *, protocol: str, contract: Address | None) -> str:
    """Open an incident for a match of our own code (its finding recorded); returns its id."""
    ind = match.indicator
    src = match.source
    finding = Finding(
        detector="intel-vulnerable-code",
        vuln_class=ind.vuln_class or VulnClass.KNOWN_ATTACKER,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH if match.localised else Confidence.MEDIUM,
        title=f"{src.contract}.{match.function} has the shape of code exploited elsewhere",
        protocol=protocol,
        contract=contract,
        tx_hash=None,
        pending=False,
        evidence={
            "fingerprint": match.fingerprint,
            "source": str(src.path),
            "component": src.component,
            "localised": match.localised,
        },
    )
    return store.open_incident(finding).id  # the finding is recorded with it


@dataclass(frozen=True, slots=True)
class UpgradeTarget:
    """Where a pre-emptive patch goes: the component's proxy under a governance policy."""

    component: str
    proxy: Address
    policy: Policy
    deployer: Signer
    upgrader: Address | None = None
    protected: tuple[Address, ...] = ()


def demo_target(protocol: DemoProtocol, component: str) -> UpgradeTarget:
    """The demo protocol's upgrade path (its Safe owners, its timelock), as ``--protect full`` uses."""
    return UpgradeTarget(
        component=component,
        proxy=Address(protocol.component(component).proxy),
        policy=demo_policy(protocol),
        deployer=Signer(protocol.deployer.private_key),
        upgrader=Address(protocol.timelock.address),
        protected=tuple(Address(c.proxy) for c in protocol.components.values()),
    )


@dataclass(frozen=True, slots=True)
class Preemptive:
    incident_id: str
    proposal_id: str | None
    evidence_hash: str | None
    diff: str | None
    tried: tuple[dict[str, Any], ...] = field(default=())
    reason: str = ""


async def preemptive_patch(
    match: CodeMatch,
    target: UpgradeTarget,
    *,
    client: ChainClient,
    rpc_url: str,
    store: Store,
    compiler: Compiler,
    workdir: Path,
    regress: int = 5,
    max_candidates: int = 3,
) -> Preemptive:
    """An incident for the match, then patch → verify (regression, no attack) → upgrade proposal.
    The proposal is stored pending: the council approves it like any other."""
    src = match.source
    iid = flag_match(store, match, protocol=target.policy.protocol, contract=target.proxy)
    request = PatchRequest(paths=[src.path], contract=src.contract, max_patches=max_candidates)
    patches = await asyncio.to_thread(generate, request, compiler)
    patches = [p for p in patches if p.function == match.function]
    if not patches:
        reason = f"no candidate patch fixes {src.contract}.{match.function}"
        store.transition(iid, IncidentState.ESCALATED, reason)
        return Preemptive(iid, None, None, None, reason=reason)
    store.transition(
        iid, IncidentState.PATCHED, "pre-emptive candidates", {"candidates": [p.template for p in patches]}
    )
    tried: list[dict[str, Any]] = []
    for i, p in enumerate(patches):
        path = _materialise(workdir / iid, i, p.patched_sources, src.path)
        verdict = await verify(
            VerifyRequest(
                rpc_url=rpc_url,
                proxy=target.proxy,
                candidate=path,
                contract=src.contract,
                live_source=src.path,
                live_contract=src.contract,
                attack_txs=(),
                regress=regress,
                protected=target.protected,
                upgrader=target.upgrader,
            ),
            compiler=compiler,
        )
        tried.append({"candidate": i, "template": p.template, **verdict.summary()})
        if not verdict.passed:
            continue
        store.put_artifact(
            f"evidence:{verdict.evidence_hash}",
            "evidence",
            dict(verdict.evidence.document),
            incident_id=iid,
            state="verified",
        )
        store.transition(iid, IncidentState.VERIFIED, "pre-emptive patch verified (regression only)",
                         {"evidence_hash": verdict.evidence_hash, "template": p.template})  # fmt: skip
        compiled = compile_candidate(compiler, path, src.contract)
        proposal = await propose_upgrade(
            client,
            store,
            target.policy,
            verdict,
            component=target.component,
            implementation=compiled.artifact.bytecode,
            deployer=target.deployer,
            severity=Severity.HIGH,
            incident_id=iid,
        )
        return Preemptive(iid, proposal.id, verdict.evidence_hash, p.diff, tuple(tried))
    reason = "no pre-emptive candidate passed verification"
    store.transition(iid, IncidentState.ESCALATED, reason, {"tried": tried})
    return Preemptive(iid, None, None, None, tuple(tried), reason)


# -- configuration, persistence ------------------------------------------------------------------

INDICATOR_ARTIFACT = "intel-indicator"


def load_intel_config(path: Path) -> IntelConfig:
    """The ``intel`` section of ``path`` (a bulwark.yaml), validated on its own; a missing or
    malformed section is an error (fails closed), never an empty configuration."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    section = data.get("intel") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: no `intel:` section")
    try:
        return IntelConfig.model_validate(section, context={BASE_DIR_CONTEXT: path.parent.resolve()})
    except ValidationError as exc:
        lines = [f"intel.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)]
        raise ConfigError(f"{path}: " + "; ".join(lines)) from None


def feeds_from_config(config: IntelConfig, base_dir: Path) -> dict[str, FileFeed | TaxiiFeed]:
    out: dict[str, FileFeed | TaxiiFeed] = {}
    for name, f in config.feeds.items():
        if f.file is not None:
            out[name] = FileFeed(f.file if f.file.is_absolute() else base_dir / f.file)
        else:
            assert f.taxii is not None and f.collection is not None
            password = f.password.anchored(base_dir).resolve() if f.password else None
            out[name] = TaxiiFeed(f.taxii, f.collection, f.user, password)
    return out


def remember(store: Store, intel: Intel) -> int:
    """Keep accepted indicators in the store (what ``bulwark intel list`` shows and a restarted
    watcher acts on); returns how many were new."""
    have = {a for a, _, _ in store.artifacts(INDICATOR_ARTIFACT)}
    new = 0
    for publisher, ind in intel.indicators:
        aid = f"intel:{ind.kind.value}:{ind.value.lower()}"
        new += aid not in have
        store.put_artifact(
            aid,
            INDICATOR_ARTIFACT,
            {
                "kind": ind.kind.value,
                "value": ind.value,
                "publisher": publisher,
                "valid_from": ind.valid_from.isoformat(),
                "valid_until": ind.valid_until.isoformat(),
                "vuln_class": ind.vuln_class.value if ind.vuln_class else None,
                "chain_id": ind.chain_id,
                "description": ind.description,
            },
            state="active",
        )
    return new


def remembered(store: Store, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every kept indicator, with ``expired`` computed at ``now``."""
    at = now or datetime.now(UTC)
    out = []
    for aid, _, body in store.artifacts(INDICATOR_ARTIFACT):
        until = datetime.fromisoformat(str(body["valid_until"]))
        out.append({"id": aid, **body, "expired": at >= until})
    return out


def intel_from_store(store: Store, *, now: datetime | None = None) -> Intel:
    """The kept indicators still valid at ``now``, as the detectors and the scan take them."""
    items = []
    for body in remembered(store, now=now):
        if body["expired"]:
            continue
        vc = body.get("vuln_class")
        ind = Indicator(
            IndicatorKind(str(body["kind"])),
            str(body["value"]),
            datetime.fromisoformat(str(body["valid_from"])),
            datetime.fromisoformat(str(body["valid_until"])),
            VulnClass(vc) if vc else None,
            str(body.get("description") or ""),
            body.get("chain_id"),
        )
        items.append((Address(str(body["publisher"])), ind))
    return Intel(tuple(items), ())


async def pull_and_remember(
    feeds: Sequence[FileFeed | TaxiiFeed], trusted: Iterable[str], store: Store
) -> tuple[Intel, int]:
    intel = await pull(feeds, trusted, store=store)
    return intel, remember(store, intel)


# -- the responder's consensus mode ---------------------------------------------------------------

_CONSENSUS_ABI: tuple[dict[str, Any], ...] = (
    {
        "type": "function",
        "name": "pauseWithConsensus",
        "stateMutability": "nonpayable",
        "inputs": [
            {"name": "target", "type": "address"},
            {"name": "selectors", "type": "bytes4[]"},
            {"name": "findingId", "type": "bytes32"},
            {"name": "deadline", "type": "uint256"},
            {"name": "signatures", "type": "bytes[]"},
        ],
        "outputs": [],
    },
)
_PAUSING = frozenset({Action.PAUSE, Action.PAUSE_SELECTORS})


@dataclass(frozen=True, slots=True)
class ConsensusSettings:
    """k-of-n: ``threshold`` sentinels (this one included) must sign; ``peers`` are the other
    sentinels' channel URLs; ``secret`` authenticates the channel."""

    threshold: int
    peers: tuple[str, ...]
    secret: bytes = field(repr=False)
    timeout_s: float = 2.0
    deadline_s: int = 300
    sentinels: tuple[str, ...] = ()  # when given, signatures from anybody else are ignored

    @classmethod
    def from_config(cls, config: ConsensusConfig, base_dir: Path) -> ConsensusSettings:
        secret = config.channel_secret.anchored(base_dir).resolve().encode()
        return cls(config.threshold, config.peers, secret, config.timeout_s, config.deadline_s)


@dataclass(frozen=True, slots=True)
class ConsensusPause:
    """One consensus round for one target: who signed, what was sent, or why nothing was."""

    finding: Finding
    target: Address
    request: PauseRequest
    signers: tuple[Address, ...] = ()
    tx_hash: TxHash | None = None
    error: str | None = None
    failures: tuple[tuple[str, str], ...] = ()
    already_paused: bool = False  # no consensus, because there was nothing left to pause


class ConsensusResponder:
    """The responder when the guardian requires k of n sentinels: the same policy decides what to
    pause (:func:`bulwark.respond.plan`); each pause becomes a :class:`PauseRequest` over the
    target, the selectors and the finding's id, signed by this sentinel and its peers over the
    authenticated channel, and submitted in one ``pauseWithConsensus`` transaction (outbidding the
    attack like the single-key responder). A peer that is down is skipped; too few signatures is
    an error recorded in the log and the store, never a silent skip."""

    def __init__(
        self,
        relayer: Relayer,
        protected: Sequence[ProtectedSet],
        settings: ConsensusSettings,
        *,
        chain_id: int,
        policy: ResponsePolicy = DEFAULT_POLICY,
        store: Store | None = None,
        fees: FeeStrategy | None = None,
        gas_limit: int = 600_000,
    ) -> None:
        self.relayer = relayer
        self.protected = {p.protocol: p for p in protected}
        self.settings = settings
        self.chain_id = chain_id
        self.policy = policy
        self.store = store
        self.fees = fees or FeeStrategy()
        self.gas_limit = gas_limit
        self._done: dict[tuple[str, tuple[str, ...]], TxHash] = {}
        self._lock = asyncio.Lock()  # findings arriving together: one round per target, not one each
        self.pauses: list[ConsensusPause] = []

    def requests(self, finding: Finding, attack: Transaction | None = None) -> list[PauseRequest]:
        protected = self.protected.get(finding.protocol)
        if protected is None:
            return []
        body = finding_json(finding)
        fid = finding_id(body)
        deadline = int(time.time()) + self.settings.deadline_s
        out = []
        for action in plan(finding, protected, self.policy, attack):
            if action.kind not in _PAUSING:
                continue
            sels = tuple(s.lower() for s in action.selectors) if action.kind is Action.PAUSE_SELECTORS else ()
            for target in action.targets:
                if (target.lower(), sels) in self._done:
                    continue
                out.append(PauseRequest(self.chain_id, protected.guardian, target, sels, fid, deadline, body))
        return out

    async def respond(self, finding: Finding, attack: Transaction | None = None) -> list[ConsensusPause]:
        async with self._lock:
            return await self._respond(finding, attack)

    async def _respond(self, finding: Finding, attack: Transaction | None) -> list[ConsensusPause]:
        reqs = self.requests(finding, attack)
        rounds = await asyncio.gather(*(self._gather(r) for r in reqs), return_exceptions=True)
        out: list[ConsensusPause] = []
        for req, got in zip(reqs, rounds, strict=True):
            if isinstance(got, BaseException):
                msg = got.user_message if isinstance(got, BulwarkError) else f"{type(got).__name__}: {got}"
                if await self._paused(req.target):  # the peers refuse to pause what is paused
                    self._done[(req.target.lower(), req.selectors)] = TxHash("0x")
                    pause = ConsensusPause(finding, req.target, req, already_paused=True)
                else:
                    pause = ConsensusPause(finding, req.target, req, error=msg)
                    log.error("consensus pause not possible", target=req.target, finding=req.finding_id,
                              error=msg)  # fmt: skip
            else:
                pause = await self._submit(finding, req, got, attack)
            self._record(pause)
            out.append(pause)
        self.pauses.extend(out)
        return out

    async def _paused(self, target: Address) -> bool:
        try:
            return await is_paused(self.relayer.client, target)
        except BulwarkError:
            return False  # unknown: ask the peers, who read it themselves

    async def _gather(self, req: PauseRequest) -> Gathered:
        s = self.settings
        return await gather(
            req,
            self.relayer.signer,
            s.peers,
            s.secret,
            threshold=s.threshold,
            sentinels=s.sentinels,
            timeout_s=s.timeout_s,
        )

    async def _submit(
        self, finding: Finding, req: PauseRequest, got: Gathered, attack: Transaction | None
    ) -> ConsensusPause:
        data = encode_call(
            _CONSENSUS_ABI,
            "pauseWithConsensus",
            req.target,
            [bytes.fromhex(s[2:]) for s in req.selectors],
            bytes.fromhex(req.finding_id[2:]),
            req.deadline,
            got.ordered(),
        )
        fees = self.relayer.capped(outbid(attack, self.relayer.base_fee, self.fees))
        signers = tuple(a for a, _ in got.signatures)
        try:
            sent = await self.relayer.send(
                TxRequest(to=req.guardian, data=data, gas=self.gas_limit),
                fees,
                label=f"consensus pause {req.target}",
            )
        except BulwarkError as exc:
            return ConsensusPause(
                finding, req.target, req, signers, error=exc.user_message, failures=got.failures
            )
        self._done[(req.target.lower(), req.selectors)] = sent.tx_hash
        log.warning(
            "consensus pause sent",
            target=req.target,
            signers=len(signers),
            tx=sent.tx_hash,
            finding=req.finding_id,
        )
        return ConsensusPause(finding, req.target, req, signers, sent.tx_hash, failures=got.failures)

    def _record(self, pause: ConsensusPause) -> None:
        if self.store is None:
            return
        self.store.audit(
            "consensus.pause",
            {
                "target": pause.target,
                "finding_id": pause.request.finding_id,
                "deadline": pause.request.deadline,
                "signers": list(pause.signers),
                "tx": pause.tx_hash,
                "error": pause.error,
                "already_paused": pause.already_paused,
                "peers_failed": [list(f) for f in pause.failures],
            },
        )


# -- `bulwark watch`: subscriptions and the consensus mode from bulwark.yaml -----------------------


class Subscriptions:
    """What ``bulwark watch`` keeps subscribed: the configured feeds, pulled at start and then every
    ``poll_interval_s``; each pull updates the intel-fed detectors of the running monitors in place
    (the screener keeps its monitors), on top of the thresholds the configuration gave them."""

    def __init__(
        self,
        config: IntelConfig,
        base_dir: Path,
        monitors: Sequence[Monitor],
        store: Store,
        *,
        contracts: Mapping[tuple[str, str], Address] | None = None,
        targets: Mapping[tuple[str, str], tuple[UpgradeTarget, str]] | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.config = config
        self.base_dir = base_dir
        self.contracts = dict(contracts or {})  # (protocol, component) -> address, for incidents
        self.targets = dict(targets or {})  # (protocol, component) -> where a pre-emptive patch goes, rpc
        self.workdir = workdir or base_dir / ".bulwark" / "preempt"
        self.feeds = list(feeds_from_config(config, base_dir).values())
        self.store = store
        fed = (IndicatorMatch.ARGUMENT, ExploitFingerprint.ARGUMENT)
        self.monitors = tuple(monitor_with_intel(m, Intel((), ())) for m in monitors)
        self._configured = {
            (m.name, d.ARGUMENT): d.params for m in self.monitors for d in m.detectors if d.ARGUMENT in fed
        }

    @classmethod
    def from_config(cls, config: BulwarkConfig, monitors: Sequence[Monitor], store: Store) -> Subscriptions:
        """From ``bulwark.yaml``; an ``own_code`` entry naming an unknown protocol or contract fails."""
        if config.intel is None:
            raise ConfigError("no `intel:` section: nothing to subscribe to")
        contracts: dict[tuple[str, str], Address] = {}
        problems = []
        for i, own in enumerate(config.intel.own_code):
            proto = config.protocols.get(own.protocol)
            if proto is None or own.component not in proto.contracts:
                problems.append(
                    f"intel.own_code.{i}: no contract {own.component!r} in protocol {own.protocol!r}"
                )
                continue
            contracts[(own.protocol, own.component)] = proto.contracts[own.component].address
        targets: dict[tuple[str, str], tuple[UpgradeTarget, str]] = {}
        intel = config.intel
        if intel.preempt_key is not None and not problems:
            deployer = Signer(intel.preempt_key.private_key(intel.preempt_password))
            for i, own in enumerate(intel.own_code):
                pcfg = config.policies.get(own.protocol)
                proto = config.protocols[own.protocol]
                if pcfg is None or own.component not in pcfg.proxies:
                    problems.append(f"intel.own_code.{i}: preempt_key needs policies.{own.protocol} "
                                    f"listing {own.component!r} among its proxies")  # fmt: skip
                    continue
                names = {n: c.address for n, c in proto.contracts.items()}
                try:
                    policy = pcfg.to_policy(own.protocol, names)
                except ValueError as exc:
                    problems.append(str(exc))
                    continue
                target = UpgradeTarget(
                    component=own.component,
                    proxy=names[own.component],
                    policy=policy,
                    deployer=deployer,
                    upgrader=policy.timelock,
                    protected=tuple(policy.proxies.values()),
                )
                targets[(own.protocol, own.component)] = (
                    target,
                    config.networks[proto.network].rpc_http.resolve(),
                )
        if problems:
            raise ConfigError("; ".join(problems))
        return cls(intel, config.base_dir, monitors, store, contracts=contracts, targets=targets)

    def apply(self, intel: Intel) -> None:
        extra = detection_params(intel)
        for m in self.monitors:
            for det in m.detectors:
                base = self._configured.get((m.name, det.ARGUMENT))
                if base is not None:
                    det.params = base
                    det.params = _merged(det, extra[det.ARGUMENT]).params

    async def refresh(self) -> Intel:
        if self.feeds:
            await pull_and_remember(self.feeds, self.config.publishers, self.store)
        intel = intel_from_store(self.store)
        self.apply(intel)
        if self.config.own_code and intel.vulnerable_code:
            await self.scan(intel)
        return intel

    async def scan(self, intel: Intel) -> list[str]:
        """Scan our own code for vulnerable-code indicators not scanned before. A match opens an
        incident naming the function; with ``preempt_key`` and a governance policy for it, the
        incident carries on: patch → verify (regression only) → upgrade proposal, pending.
        Returns the incidents opened."""
        done = {a for a, _, _ in self.store.artifacts("intel-scan")}
        fresh = [i for i in intel.vulnerable_code if f"intel-scan:{i.value.lower()}" not in done]
        if not fresh:
            return []
        wanted = {i.value for i in fresh}
        subset = Intel(tuple((p, i) for p, i in intel.indicators if i.value in wanted), ())
        opened: list[str] = []
        with Compiler() as compiler:
            for own in self.config.own_code:
                path = own.source if own.source.is_absolute() else self.base_dir / own.source
                src = OwnSource(own.component, path, own.contract)
                for m in await asyncio.to_thread(scan_own_code, [src], subset, compiler):
                    key = (own.protocol, own.component)
                    if key in self.targets:
                        target, rpc_url = self.targets[key]
                        async with ChainClient(rpc_url) as client:
                            done_ = await preemptive_patch(m, target, client=client, rpc_url=rpc_url,
                                                           store=self.store, compiler=compiler,
                                                           workdir=self.workdir)  # fmt: skip
                        opened.append(done_.incident_id)
                        log.warning("pre-emptive patch", incident=done_.incident_id,
                                    proposal=done_.proposal_id, reason=done_.reason)  # fmt: skip
                    else:
                        contract = self.contracts.get(key)
                        opened.append(flag_match(self.store, m, protocol=own.protocol, contract=contract))
        for i in fresh:
            self.store.put_artifact(
                f"intel-scan:{i.value.lower()}", "intel-scan", {"fingerprint": i.value}, state="scanned"
            )
        return opened

    async def keep_polling(self) -> None:
        while True:
            await asyncio.sleep(self.config.poll_interval_s)
            try:
                await self.refresh()
            except BulwarkError as exc:  # a feed down is a rejection; the last good intel stays
                log.warning("intel refresh failed", error=exc.user_message)


async def consensus_responder_from_config(
    config: BulwarkConfig, client: ChainClient, *, store: Store | None = None
) -> ConsensusResponder:
    """The responder in consensus mode: the sentinel key, guardians and rules of ``responses``, the
    peers, threshold and channel secret of ``intel.consensus``."""
    if config.responses is None or config.intel is None or config.intel.consensus is None:
        raise ConfigError("consensus mode needs both `responses` and `intel.consensus`")
    resp = config.responses
    signer = Signer(resp.sentinel_key.private_key(resp.sentinel_password))
    relayer = Relayer(client, signer, RelayerPolicy(max_fee_cap=resp.max_fee_gwei * GWEI))
    await relayer.start()
    return ConsensusResponder(
        relayer,
        protected_sets_from_config(config),
        ConsensusSettings.from_config(config.intel.consensus, config.base_dir),
        chain_id=await client.chain_id(),
        policy=policy_from_config(config),
        store=store,
    )
