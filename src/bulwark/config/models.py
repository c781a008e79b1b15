"""The shape of ``bulwark.yaml``: networks, protected protocols and monitors.

Every model forbids unknown keys (a typo must not silently disable a monitor). Names link the
sections (a protocol names its network, a monitor its protocol); :mod:`bulwark.config.checks`
verifies every link and reports all broken ones at once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from eth_utils.address import is_address, is_checksum_address, to_checksum_address
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from bulwark.config.cluster import ClusterConfig
from bulwark.config.intel import IntelConfig
from bulwark.config.invariants import FuzzConfig, InvariantConfig
from bulwark.config.notify import NotifyChannel
from bulwark.config.policy import PolicyConfig
from bulwark.config.remedy import RemedyConfig
from bulwark.config.secrets import KeyRef, Secret, SecretRef, UrlOrRef, keystore_problems
from bulwark.config.signers import SignerConfig
from bulwark.domain import Address, Confidence, Severity, VulnClass
from bulwark.domain.verify import Invariant

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_HASH_RE = re.compile(r"^0x[0-9a-fA-F]{64}$")


def _address(value: Any) -> Address:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"not an address: {value!r}")
    # A mixed-case address carries a checksum; a wrong one is a typo we must not accept.
    if value != value.lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise ValueError(f"bad EIP-55 checksum in {value!r}")
    return Address(to_checksum_address(value))


def _severity(value: Any) -> Severity:
    if isinstance(value, Severity):
        return value
    if not isinstance(value, str):
        raise ValueError("severity must be one of info, low, medium, high, critical")
    return Severity.parse(value)


def _confidence(value: Any) -> Confidence:
    if isinstance(value, Confidence):
        return value
    try:
        return Confidence[str(value).strip().upper()]
    except KeyError:
        raise ValueError("confidence must be one of low, medium, high") from None


def _code_hash(value: Any) -> str:
    if not isinstance(value, str) or not _HASH_RE.match(value):
        raise ValueError(f"not a 32-byte hex hash: {value!r}")
    return value.lower()


AddressField = Annotated[Address, BeforeValidator(_address)]
SeverityField = Annotated[Severity, BeforeValidator(_severity)]
ConfidenceField = Annotated[Confidence, BeforeValidator(_confidence)]
CodeHash = Annotated[str, BeforeValidator(_code_hash)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class NetworkConfig(_Strict):
    """An RPC endpoint. URLs may be literal or secret references (they often embed API keys)."""

    chain_id: int | None = Field(default=None, ge=1)
    rpc_http: UrlOrRef
    rpc_ws: UrlOrRef | None = None
    confirmations: int = Field(default=1, ge=0, le=256)
    max_past_blocks: int = Field(default=256, ge=1, le=100_000)
    poll_interval_s: float = Field(default=1.0, gt=0, le=3600)
    mempool: Literal["subscribe", "poll", "off"] = "subscribe"
    # Mined blocks: trace every transaction ("all"), or only those that touched a protected
    # contract ("protected": emitted one of its logs, fetched by eth_getLogs, were sent to it, or
    # deployed a contract), judged by their logs alone when the endpoint has no debug namespace.
    mined: Literal["all", "protected"] = "all"


ContractKind = Literal["generic", "token", "oracle", "amm", "lending", "vault", "flash-lender", "governance"]


class ImplementationConfig(_Strict):
    """The source of the code a proxy runs: a file of the protocol's ``source`` project and the
    contract in it (``bulwark config check`` compiles it and compares it with the deployed code)."""

    file: Path  # relative to the project root, e.g. src/LendingPool.sol
    contract: str = Field(min_length=1)


class ProbeConfig(_Strict):
    """A view of a protected contract whose value must not jump within one transaction: a price,
    a share price, a ratio or a balance. ``call`` is its signature (``sharePrice()``,
    ``balanceOf(address)``) and ``args`` its arguments; a relative move beyond ``max_move`` between
    before and after a pending transaction is a finding."""

    call: str = Field(pattern=r"^[A-Za-z_$][A-Za-z0-9_$]*\([^()]*\)$")
    args: tuple[str | int, ...] = ()
    max_move: float = Field(default=0.05, gt=0)


class ContractConfig(_Strict):
    """A protected contract: its address (the proxy's, for an upgradeable one), where its ABI comes
    from, and (optionally) the source of its implementation in the protocol's project."""

    address: AddressField
    kind: ContractKind = "generic"
    abi: Path | None = None
    artifact: Path | None = None
    implementation: ImplementationConfig | None = None
    # Function names or 0x selectors whose successful call changes privileged state, beyond the
    # ones Bulwark knows (OpenZeppelin AccessControl/Ownable/UUPS, the demo protocol's setters).
    privileged: tuple[str, ...] = ()
    # Views read before and after each pending transaction (bulwark.detect.builtins.probes).
    probes: tuple[ProbeConfig, ...] = ()
    _abi_cache: list[dict[str, Any]] | None = PrivateAttr(default=None)

    def load_abi(self, base_dir: Path) -> list[dict[str, Any]] | None:
        """The ABI from ``abi`` (a JSON list) or ``artifact`` (a JSON object with an ``abi`` key)."""
        if self._abi_cache is not None:
            return self._abi_cache
        source = self.abi or self.artifact
        if source is None:
            return None
        path = source if source.is_absolute() else base_dir / source
        data = json.loads(path.read_text())
        abi = data["abi"] if isinstance(data, dict) else data
        if not isinstance(abi, list):
            raise ValueError(f"{path}: the ABI is not a JSON list")
        self._abi_cache = abi
        return abi


class AssetConfig(_Strict):
    """An ERC-20 (or ``native``) the protocol holds; ``held_by`` names the contracts holding it."""

    address: AddressField | Literal["native"]
    decimals: int = Field(default=18, ge=0, le=77)
    held_by: tuple[str, ...] = ()


class ProtocolConfig(_Strict):
    network: str
    # The team's own sources (bulwark.toolchain.project): a Foundry project folder, a Hardhat
    # project folder (its build info), or a solc standard-JSON input file; relative to this file.
    source: Path | None = None
    contracts: dict[str, ContractConfig] = Field(min_length=1)
    assets: dict[str, AssetConfig] = Field(default_factory=dict)
    # role name -> holders (addresses or names of this protocol's contracts)
    roles: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Flash-loan providers outside the protocol (addresses); the protocol's own flash-lender
    # contracts are found by kind.
    flash_lenders: tuple[AddressField, ...] = ()
    # What must always hold (bulwark.config.invariants); verification fuzzes them on a fork.
    invariants: tuple[InvariantConfig, ...] = ()
    fuzz: FuzzConfig = FuzzConfig()  # the invariant fuzz's seed and budget

    def addresses(self) -> dict[str, str]:
        """Contract and asset names of this protocol -> addresses."""
        out = {name: str(a.address) for name, a in self.assets.items() if a.address != "native"}
        out.update({name: str(c.address) for name, c in self.contracts.items()})
        return out

    def declared_invariants(self) -> tuple[Invariant, ...]:
        return tuple(i.resolve(self.addresses()) for i in self.invariants)


class DetectorSettings(_Strict):
    enabled: bool = True
    severity: SeverityField | None = None
    # Detector-specific thresholds, validated by the detector itself when it is built.
    params: dict[str, Any] = Field(default_factory=dict)


class RuleConfig(_Strict):
    """A declarative rule: ``when`` says what the expression looks at.

    * ``tx``: fields ``tx.from``, ``tx.to``, ``tx.value``, ``tx.selector``, ``tx.gas``.
    * ``event``: the decoded ``event`` of ``contract`` (``args.<name>``) plus ``tx.*``.
    * ``call``: every call into ``contract``'s ``function`` (``args.<name>``, ``call.from``,
      ``call.value``) plus ``tx.*``.
    """

    name: str
    when: Literal["tx", "event", "call"]
    expr: str = Field(min_length=1)
    contract: str | None = None
    event: str | None = None
    function: str | None = None
    severity: SeverityField = Severity.MEDIUM
    confidence: ConfidenceField = Confidence.MEDIUM
    vuln_class: VulnClass = Field(default=VulnClass.CUSTOM, alias="class")
    action: Literal["alert", "pause", "pause-selectors"] = "alert"

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class IndicatorConfig(_Strict):
    addresses: tuple[AddressField, ...] = ()
    code_hashes: tuple[CodeHash, ...] = ()
    # One address or code hash per line; '#' starts a comment. Merged with the inline lists.
    file: Path | None = None


class MonitorConfig(_Strict):
    protocol: str
    detectors: dict[str, DetectorSettings] = Field(default_factory=dict)
    rules: tuple[RuleConfig, ...] = ()
    indicators: IndicatorConfig = Field(default_factory=IndicatorConfig)
    cooldown_s: float = Field(default=300.0, ge=0)
    mempool: bool = True  # also screen pending transactions, not only mined ones


ResponseActionName = Literal[
    "recommended", "pause", "pause-selectors", "block-address", "rate-limit", "alert", "none"
]


class ResponseRuleConfig(_Strict):
    """Findings matching every condition get ``actions`` (the first matching rule decides).
    ``recommended`` takes the detector's suggestion; ``scope: protocol`` acts on every protected
    contract of the finding's protocol instead of the one the finding names."""

    name: str
    min_severity: SeverityField = Severity.HIGH
    classes: tuple[VulnClass, ...] = ()
    detectors: tuple[str, ...] = ()
    pending_only: bool = False
    actions: tuple[ResponseActionName, ...] = Field(default=("recommended",), min_length=1)
    scope: Literal["target", "protocol"] = "target"


class ResponsesConfig(_Strict):
    """Containment: who signs (a key reference, never the key), which guardian acts for each
    protocol, and the policy mapping findings to actions (none given: the built-in policy)."""

    sentinel_key: KeyRef  # env:NAME, file:PATH or keystore:PATH (+ sentinel_password)
    sentinel_password: Secret | None = None
    guardians: dict[str, AddressField] = Field(min_length=1)
    rules: tuple[ResponseRuleConfig, ...] = ()
    presign: bool = True
    max_fee_gwei: int = Field(default=10_000, ge=1)

    @model_validator(mode="after")
    def _keystore_password(self) -> ResponsesConfig:
        keystore_problems(self, ("sentinel",))
        return self


class BulwarkConfig(_Strict):
    version: Literal[1] = 1
    networks: dict[str, NetworkConfig] = Field(min_length=1)
    protocols: dict[str, ProtocolConfig] = Field(min_length=1)
    monitors: dict[str, MonitorConfig] = Field(default_factory=dict)
    responses: ResponsesConfig | None = None
    # protocol name -> governance policy (bulwark.config.policy; checked against the chain at start)
    policies: dict[str, PolicyConfig] = Field(default_factory=dict)
    # protocol name -> owner keys the pipeline may sign proposals with (bulwark.config.signers); a
    # production configuration has none: the owners sign with `bulwark approve`.
    signers: dict[str, tuple[SignerConfig, ...]] = Field(default_factory=dict)
    # Where findings and the head watcher's checkpoints are kept (``env:NAME``/``file:PATH`` or a
    # literal URL); none given: findings go to SQLite and checkpoints to JSON files in --state-dir.
    database_url: UrlOrRef | None = None
    # Keys the audit log (an HMAC per entry, signed anchors): env:NAME or file:PATH. The database
    # never holds it, so whoever can write the database cannot forge entries. None: hash-chained only.
    audit_key: Secret | None = None
    # Threat intelligence and k-of-n consensus (bulwark.config.intel): trusted publishers, feeds.
    intel: IntelConfig | None = None
    # protocol name -> remediation by state (bulwark.config.remedy): setters, preferences.
    remedies: dict[str, RemedyConfig] = Field(default_factory=dict)
    # channel name -> where incidents and findings are announced (bulwark.config.notify).
    notifications: dict[str, NotifyChannel] = Field(default_factory=dict)
    # Scale-out (bulwark.config.cluster): the NATS JetStream broker and the shared PostgreSQL the
    # roles of `bulwark worker` use. None: the embedded default (one process, no broker).
    cluster: ClusterConfig | None = None
    _base_dir: Path = PrivateAttr(default=Path("."))

    @field_validator("networks", "protocols", "monitors")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in value if not _NAME_RE.match(k)]
        if bad:
            raise ValueError(f"bad name(s) {', '.join(map(repr, bad))}: use letters, digits, '_', '-', '.'")
        return value

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def secrets(self) -> dict[str, SecretRef]:
        """Every secret-bearing value by its location in the file (with file paths anchored)."""
        out: dict[str, SecretRef] = {}
        for name, net in self.networks.items():
            out[f"networks.{name}.rpc_http"] = net.rpc_http
            if net.rpc_ws is not None:
                out[f"networks.{name}.rpc_ws"] = net.rpc_ws
        if self.database_url is not None:
            out["database_url"] = self.database_url
        if self.audit_key is not None:
            out["audit_key"] = self.audit_key
        if self.cluster is not None:
            out["cluster.nats_url"] = self.cluster.nats_url
            out["cluster.database_url"] = self.cluster.database_url
        if self.responses is not None:
            out["responses.sentinel_key"] = self.responses.sentinel_key
            if self.responses.sentinel_password is not None:
                out["responses.sentinel_password"] = self.responses.sentinel_password
        if self.intel is not None:
            for loc, ref in self.intel.secret_refs().items():
                out[f"intel.{loc}"] = ref
        for pname, keys in self.signers.items():
            for i, signer in enumerate(keys):
                out[f"signers.{pname}.{i}.key"] = signer.key
                if signer.password is not None:
                    out[f"signers.{pname}.{i}.password"] = signer.password
        for cname, channel in self.notifications.items():
            for loc, ref in channel.secret_refs().items():
                out[f"notifications.{cname}.{loc}"] = ref
        # Anchored here too: a model built without parse_config's context still reads files
        # relative to the configuration file.
        return {loc: ref.anchored(self._base_dir) for loc, ref in out.items()}

    def secret(self, location: str) -> SecretRef:
        return self.secrets()[location]

    def resolve_path(self, path: Path) -> Path:
        return path if path.is_absolute() else self._base_dir / path
