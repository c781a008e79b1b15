"""``protocols.<name>.invariants`` in bulwark.yaml: what must hold however the protocol is used.

    invariants:
      - name: vault-holds-its-assets
        lhs: {contract: usd, call: "balanceOf(address)(uint256)", args: [vault]}
        op: ">="
        rhs: {contract: vault, call: "totalAssets()(uint256)"}

``contract`` and any string argument may name a contract or asset of the protocol (resolved to its
address) or be an address; ``rhs`` may be a plain number. Verification fuzzes them on a fork, with
the budget and seed of ``protocols.<name>.fuzz`` (``bulwark verify --seed`` overrides the seed):

    fuzz: {seed: 0, examples: 5, steps: 6}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from eth_utils.address import is_address, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bulwark.domain.verify import Invariant, ViewCall

_SIGNATURE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\([^()]*\)\([^()]+\)$")


class ViewCallConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contract: str
    call: str  # "name(inputs)(outputs)", e.g. "balanceOf(address)(uint256)"
    args: tuple[int | str, ...] = ()

    @field_validator("call")
    @classmethod
    def _signature(cls, value: str) -> str:
        if not _SIGNATURE.match(value.replace(" ", "")):
            raise ValueError(f"{value!r} is not a view signature like 'totalAssets()(uint256)'")
        return value.replace(" ", "")


class InvariantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    lhs: ViewCallConfig
    op: Literal[">=", "<=", "==", ">", "<"]
    rhs: ViewCallConfig | int
    scale: int = Field(default=1, ge=1)

    def names(self) -> list[str]:
        """Every protocol name this invariant refers to (for the reference check)."""
        out: list[str] = []
        for side in (self.lhs, self.rhs):
            if isinstance(side, ViewCallConfig):
                out += [n for n in (side.contract, *side.args) if isinstance(n, str) and not is_address(n)]
        return out

    def resolve(self, addresses: Mapping[str, str]) -> Invariant:
        """The domain invariant, with protocol names turned into addresses."""

        def addr(value: str) -> str:
            if is_address(value):
                return to_checksum_address(value)
            if value not in addresses:
                raise ValueError(f"invariant {self.name}: unknown contract or asset {value!r}")
            return to_checksum_address(addresses[value])

        def call(v: ViewCallConfig) -> ViewCall:
            args: tuple[Any, ...] = tuple(addr(a) if isinstance(a, str) else a for a in v.args)
            return ViewCall(addr(v.contract), v.call, args)

        rhs = call(self.rhs) if isinstance(self.rhs, ViewCallConfig) else self.rhs
        return Invariant(self.name, call(self.lhs), self.op, rhs, self.scale)


class FuzzConfig(BaseModel):
    """The invariant fuzz: ``examples`` runs of ``steps`` calls each, every choice from ``seed``
    (the same seed on the same fork gives the same calls, verdict and evidence hash)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = Field(default=0, ge=0, lt=2**64)
    examples: int = Field(default=5, ge=1, le=10_000)
    steps: int = Field(default=6, ge=1, le=1_000)
