"""What ``bulwark watch`` builds from ``bulwark.yaml`` for intelligence: the subscriptions that
keep the intel-fed detectors and the scan of our own code up to date, and the responder in
consensus mode (k of n sentinels sign each pause).

A match of our own code opens a pre-emptive incident and nothing more here: the watch's incident
driver (:mod:`bulwark.app.driver`) carries it through the one incident pipeline, like any other
incident, when the configuration can patch and govern its protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

from bulwark.app.contain import policy_from_config, protected_sets_from_config
from bulwark.app.intel.detection import detection_params, merged, monitor_with_intel
from bulwark.app.intel.preempt import OwnSource, flag_match, scan_own_code
from bulwark.chain import ChainClient, Signer
from bulwark.chain.relayer import GWEI, Relayer, RelayerPolicy
from bulwark.config import BulwarkConfig
from bulwark.config.intel import IntelConfig
from bulwark.detect.builtins.indicators import IndicatorMatch
from bulwark.detect.builtins.intel_fingerprint import ExploitFingerprint
from bulwark.detect.report import finding_json
from bulwark.detect.setup import Monitor
from bulwark.domain import Address
from bulwark.errors import ConfigError
from bulwark.intel.subscribe import Intel
from bulwark.intel.subscriptions import FeedSubscription
from bulwark.logs import get_logger
from bulwark.respond.quorum import ConsensusResponder, ConsensusSettings
from bulwark.store import Store
from bulwark.toolchain.solc import Compiler

__all__ = ["Subscriptions", "consensus_responder_from_config"]

log = get_logger(__name__)


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
    ) -> None:
        self.config = config
        self.base_dir = base_dir
        self.contracts = dict(contracts or {})  # (protocol, component) -> address, for incidents
        self.store = store
        self.subscription = FeedSubscription(config, base_dir, store, self._act)
        self.feeds = self.subscription.feeds
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
        if problems:
            raise ConfigError("; ".join(problems))
        return cls(config.intel, config.base_dir, monitors, store, contracts=contracts)

    def apply(self, intel: Intel) -> None:
        extra = detection_params(intel)
        for m in self.monitors:
            for det in m.detectors:
                base = self._configured.get((m.name, det.ARGUMENT))
                if base is not None:
                    det.params = base
                    det.params = merged(det, extra[det.ARGUMENT]).params

    async def refresh(self) -> Intel:
        return await self.subscription.refresh()

    async def keep_polling(self) -> None:
        await self.subscription.keep_polling()

    async def _act(self, intel: Intel) -> None:
        self.apply(intel)
        if self.config.own_code and intel.vulnerable_code:
            await self.scan(intel)

    async def scan(self, intel: Intel) -> list[str]:
        """Scan our own code for vulnerable-code indicators not scanned before. A match opens a
        pre-emptive incident naming the proxy and the function (the incident driver patches it,
        verifies it without an attack and proposes the upgrade for the owners to sign, when the
        configuration gives the protocol's source and policy). Returns the incidents opened."""
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
                contract = self.contracts.get((own.protocol, own.component))
                for m in await asyncio.to_thread(scan_own_code, [src], subset, compiler):
                    opened.append(flag_match(self.store, m, protocol=own.protocol, contract=contract))
        for i in fresh:
            self.store.put_artifact(
                f"intel-scan:{i.value.lower()}", "intel-scan", {"fingerprint": i.value}, state="scanned"
            )
        return opened


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
        finding_json=finding_json,
    )
