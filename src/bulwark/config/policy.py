"""The ``policies`` section of ``bulwark.yaml``: who may sign what, with which threshold and delay.

    policies:
      demo:                       # a protocol's name
        safe: "0x..."
        timelock: "0x..."
        guardian: "0x..."         # optional: checked to be owned by the timelock
        multisend: "0x..."        # optional MultiSendCallOnly: batches schedule+execute at delay 0
        owners: ["0x...", "0x...", "0x..."]
        threshold: 2              # the Safe's own threshold
        proxies: [vault, lending] # contracts of the protocol that are ERC-1967 proxies
        roles: {sentinel: ["0x..."], council: ["0x...", ...], dao_executor: "0x..."}
        actions:
          upgrade:
            critical: {threshold: 2, delay_s: 600, signers: council, ttl_s: 3600}
            default: {threshold: 2, delay_s: 172800}
          unpause:
            default: {threshold: 2, delay_s: 0}
        smoke:
          - {contract: vault, function: "withdraw(uint256,address,address)", args: [1, "0x..", "0x.."],
             from: "0x..."}

Severity keys pick the rule for an incident at that severity or above (the nearest configured
one below it); ``default`` covers the rest. Everything is checked against the chain at start by
``bulwark.govern.check_policy``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from eth_abi.abi import encode
from eth_utils.address import is_address, is_checksum_address, to_checksum_address
from eth_utils.crypto import keccak
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bulwark.domain import Address, Severity
from bulwark.domain.govern import ActionRule, GovAction, Policy, SmokeCall


def _address(value: Any) -> Address:
    # Same rule as bulwark.config.models (kept separate so models can import this module).
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"not an address: {value!r}")
    if value != value.lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise ValueError(f"bad EIP-55 checksum in {value!r}")
    return Address(to_checksum_address(value))


AddressField = Annotated[Address, BeforeValidator(_address)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


_SIG_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(([^()]*)\)$")
_SEVERITIES = {s.name.lower(): s for s in Severity}


class RuleConfig(_Strict):
    threshold: int = Field(ge=1, le=64)
    delay_s: int = Field(ge=0, le=60 * 24 * 3600)
    signers: Literal["owners", "council"] | tuple[AddressField, ...] = "owners"
    ttl_s: int = Field(default=24 * 3600, gt=0, le=30 * 24 * 3600)


class RolesConfig(_Strict):
    sentinel: tuple[AddressField, ...] = ()
    council: tuple[AddressField, ...] = ()
    dao_executor: AddressField | None = None


class SmokeConfig(_Strict):
    contract: str
    function: str  # "withdraw(uint256,address,address)": static types only
    args: tuple[Any, ...] = ()
    sender: AddressField = Field(alias="from")
    model_config = _Strict.model_config | {"populate_by_name": True}

    @field_validator("function")
    @classmethod
    def _signature(cls, value: str) -> str:
        if not _SIG_RE.match(value.replace(" ", "")):
            raise ValueError(f"not a function signature like 'name(uint256,address)': {value!r}")
        return value.replace(" ", "")

    def calldata(self) -> bytes:
        m = _SIG_RE.match(self.function)
        assert m is not None
        types = [t for t in m.group(2).split(",") if t]
        if len(types) != len(self.args):
            raise ValueError(f"{self.function} takes {len(types)} argument(s), {len(self.args)} given")
        args = [int(a) if t.startswith(("uint", "int")) else a for t, a in zip(types, self.args, strict=True)]
        return keccak(text=self.function)[:4] + encode(types, args)


class PolicyConfig(_Strict):
    safe: AddressField
    timelock: AddressField
    guardian: AddressField | None = None
    multisend: AddressField | None = None
    owners: tuple[AddressField, ...] = Field(min_length=1)
    threshold: int = Field(ge=1)
    proxies: tuple[str, ...] = Field(min_length=1)
    roles: RolesConfig = Field(default_factory=RolesConfig)
    # "parameters" (setter calls of a remedy by state) is optional: without it they follow "upgrade"
    actions: dict[Literal["upgrade", "unpause", "parameters"], dict[str, RuleConfig]]
    smoke: tuple[SmokeConfig, ...] = ()

    @field_validator("actions")
    @classmethod
    def _severity_keys(cls, value: dict[str, dict[str, RuleConfig]]) -> dict[str, dict[str, RuleConfig]]:
        for action, rules in value.items():
            bad = [k for k in rules if k != "default" and k not in _SEVERITIES]
            if bad:
                raise ValueError(
                    f"{action}: unknown severity {bad[0]!r}; use default or one of {', '.join(_SEVERITIES)}"
                )
        return value

    @model_validator(mode="after")
    def _complete(self) -> PolicyConfig:
        for action in ("upgrade", "unpause"):
            if action not in self.actions or "default" not in self.actions[action]:
                raise ValueError(f"actions.{action}.default is required (fail closed: no implicit rule)")
        if self.threshold > len(self.owners):
            raise ValueError(f"threshold {self.threshold} is impossible with {len(self.owners)} owners")
        return self

    def to_policy(self, protocol: str, contracts: Mapping[str, Address]) -> Policy:
        """The domain policy; ``contracts`` maps the protocol's contract names to addresses."""
        missing = [p for p in self.proxies if p not in contracts]
        if missing:
            raise ValueError(f"policies.{protocol}.proxies: unknown contract(s) {', '.join(missing)}")
        rules: dict[tuple[GovAction, Severity | None], ActionRule] = {}
        for action, by_sev in self.actions.items():
            for key, r in by_sev.items():
                if r.signers == "owners":
                    signers: tuple[Address, ...] = ()
                elif r.signers == "council":
                    signers = self.roles.council
                else:
                    signers = tuple(r.signers)
                sev = None if key == "default" else _SEVERITIES[key]
                rules[(GovAction(action), sev)] = ActionRule(r.threshold, r.delay_s, signers, r.ttl_s)
        return Policy(
            protocol=protocol,
            safe=self.safe,
            timelock=self.timelock,
            proxies={p: contracts[p] for p in self.proxies},
            owners=self.owners,
            safe_threshold=self.threshold,
            rules=rules,
            sentinels=self.roles.sentinel,
            council=self.roles.council,
            dao_executor=self.roles.dao_executor,
            guardian=self.guardian,
            multisend=self.multisend,
        )

    def smoke_calls(self, contracts: Mapping[str, Address]) -> tuple[SmokeCall, ...]:
        out = []
        for s in self.smoke:
            if s.contract not in contracts:
                raise ValueError(f"smoke call on unknown contract {s.contract!r}")
            out.append(SmokeCall(s.function, contracts[s.contract], "0x" + s.calldata().hex(), s.sender))
        return tuple(out)
