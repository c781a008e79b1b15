"""The ``intel`` section of ``bulwark.yaml``: whom to trust, where to pull from, how to publish,
and the k-of-n sentinel consensus.

```yaml
intel:
  publishers: ["0x…"]                 # trusted publisher addresses (bundle signers)
  feeds:
    peers-files: {file: ./intel}      # a directory of STIX bundles (or one file)
    isac: {taxii: https://…/api1/, collection: 9cfa…, user: me, password: env:TAXII_PASSWORD}
  publisher_key: env:BULWARK_INTEL_KEY  # or keystore:PATH (+ publisher_password)
  publish_to: isac                    # a feed name (default: --out/--taxii on the command line)
  own_code:                           # scanned when a vulnerable-code indicator arrives
    - {protocol: demo, component: oracle, source: ./src/PriceOracle.sol, contract: PriceOracle}
  consensus:
    threshold: 2                      # k: signatures the guardian needs (this sentinel's included)
    peers: ["http://10.0.0.2:8547", "http://10.0.0.3:8547"]
    channel_secret: env:BULWARK_CONSENSUS_REF_PATTERN
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from eth_utils.address import is_address, is_checksum_address, to_checksum_address
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bulwark.config.secrets import KeyRef, Secret, SecretRef, keystore_problems
from bulwark.domain import Address

__all__ = ["ConsensusConfig", "FeedConfig", "IntelConfig", "OwnCodeConfig"]


def _address(value: Any) -> Address:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"not an address: {value!r}")
    if value != value.lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise ValueError(f"bad EIP-55 checksum in {value!r}")
    return Address(to_checksum_address(value))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedConfig(_Strict):
    """Exactly one of ``file`` (a directory of bundles, or one bundle file) or ``taxii`` (an API
    root URL, with its ``collection``)."""

    file: Path | None = None
    taxii: str | None = Field(default=None, pattern=r"^https?://")
    collection: str | None = None
    user: str | None = None
    password: Secret | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> FeedConfig:
        if (self.file is None) == (self.taxii is None):
            raise ValueError("a feed is either `file:` or `taxii:` (with `collection:`), exactly one")
        if self.taxii is not None and not self.collection:
            raise ValueError("a `taxii:` feed needs its `collection:` id")
        return self


class ConsensusConfig(_Strict):
    threshold: int = Field(ge=1)
    peers: tuple[str, ...] = Field(min_length=1)
    channel_secret: Secret
    timeout_s: float = Field(default=2.0, gt=0)
    deadline_s: int = Field(default=300, ge=10)

    @model_validator(mode="after")
    def _reachable(self) -> ConsensusConfig:
        if self.threshold > len(self.peers) + 1:
            raise ValueError(
                f"threshold {self.threshold} needs more sentinels than this one "
                f"and its {len(self.peers)} peer(s)"
            )
        return self


class OwnCodeConfig(_Strict):
    """One of our own contracts, scanned when a vulnerable-code indicator arrives."""

    protocol: str
    component: str
    source: Path
    contract: str


class IntelConfig(_Strict):
    publishers: tuple[Annotated[Address, BeforeValidator(_address)], ...] = ()
    feeds: dict[str, FeedConfig] = Field(default_factory=dict)
    publisher_key: KeyRef | None = None
    publisher_password: Secret | None = None
    publisher_name: str = "bulwark"
    publish_to: str | None = None
    ttl_days: int = Field(default=30, ge=1, le=365)
    poll_interval_s: float = Field(default=300.0, ge=1)  # `bulwark watch` re-pulls the feeds this often
    consensus: ConsensusConfig | None = None
    # A match of own_code opens a pre-emptive incident; the watch's incident pipeline carries it to a
    # verified upgrade proposal (deployed by the responder's relayer), pending for the signers.
    own_code: tuple[OwnCodeConfig, ...] = ()

    @model_validator(mode="after")
    def _links(self) -> IntelConfig:
        if self.feeds and not self.publishers:
            raise ValueError("feeds without `publishers`: nothing pulled could ever be trusted")
        if self.publish_to is not None and self.publish_to not in self.feeds:
            raise ValueError(
                f"publish_to {self.publish_to!r} is not one of the feeds ({', '.join(self.feeds)})"
            )
        keystore_problems(self, ("publisher",))
        return self

    def secret_refs(self) -> dict[str, SecretRef]:
        """Every reference (keys included) by its location in the section."""
        out = {f"feeds.{n}.password": f.password for n, f in self.feeds.items() if f.password}
        for name in ("publisher_key", "publisher_password"):
            ref = getattr(self, name)
            if ref is not None:
                out[name] = ref
        if self.consensus is not None:
            out["consensus.channel_secret"] = self.consensus.channel_secret
        return out
