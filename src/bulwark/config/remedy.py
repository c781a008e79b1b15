"""The ``remedies`` section of ``bulwark.yaml``: remediation by state, per protocol.

    remedies:
      demo:                               # a protocol name
        prefer: parameters                # parameters | code | smallest
        max_blocked: 10                   # benign txs a remedy may refuse (omit: no limit)
        setters:                          # confirmed catalogue entries: setter -> finding classes
          lending.setRiskParams: [oracle-manipulation]
          flash.setFee: [oracle-manipulation]
        only_declared: false              # true: the inferred (unconfirmed) setters are not used
        alternatives:                     # replacement addresses an address setter may switch to
          lending.setOracle: ["0x..."]
        fee_ceiling: 100

Unknown keys, unknown finding classes and malformed setter names are errors (fail closed); a
declared setter the catalogue does not find is reported by :func:`bulwark.remedy.catalogue.apply_declared`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from eth_utils.address import is_address, is_checksum_address, to_checksum_address
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from bulwark.domain import Address, VulnClass

__all__ = ["RemedyConfig"]

_SETTER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}\.[A-Za-z_][A-Za-z0-9_]*$")


def _address(value: object) -> Address:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"not an address: {value!r}")
    if value != value.lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise ValueError(f"bad EIP-55 checksum in {value!r}")
    return Address(to_checksum_address(value))


_AddressField = Annotated[Address, BeforeValidator(_address)]


class RemedyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prefer: Literal["parameters", "code", "smallest"] = "smallest"
    max_blocked: int | None = Field(default=None, ge=0)
    setters: dict[str, tuple[VulnClass, ...]] = Field(default_factory=dict)
    only_declared: bool = False
    alternatives: dict[str, tuple[_AddressField, ...]] = Field(default_factory=dict)
    fee_ceiling: int = Field(default=100, ge=1)

    @field_validator("setters", "alternatives")
    @classmethod
    def _setter_names(cls, value: dict[str, object]) -> dict[str, object]:
        bad = [k for k in value if not _SETTER_RE.match(k)]
        if bad:
            raise ValueError(f"bad setter name(s) {', '.join(map(repr, bad))}: use component.function")
        return value

    def declared(self) -> dict[str, tuple[str, ...]]:
        """``component.function`` -> finding class values, for the catalogue."""
        return {k: tuple(c.value for c in v) for k, v in self.setters.items()}
