"""``bulwark watch``'s incident driver: carries every open incident of a network through the
pipeline (:mod:`bulwark.app.pipeline`), now and whenever something may have changed.

A step that waits on people (signatures, a timelock delay) stops its incident's flow; the driver
runs it again on the next tick (every ``interval_s``, or at once when poked: a containment settled,
a head arrived). Everything it knows is in the store, so a watch killed at any moment and started
again carries the same incidents on: recorded steps are not run again (:mod:`bulwark.flow`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from bulwark.app.notify import announced
from bulwark.app.pipeline import PipelineOptions, ProtocolPipeline, is_preemptive
from bulwark.app.resume import ContainStep
from bulwark.chain import ChainClient, Signer
from bulwark.config import BulwarkConfig
from bulwark.domain import IncidentState
from bulwark.errors import BulwarkError
from bulwark.flow import FlowEvent, IncidentFlow
from bulwark.logs import get_logger
from bulwark.notify import Notifier
from bulwark.respond import Responder
from bulwark.store import Store

log = get_logger(__name__)

__all__ = ["IncidentDriver"]

S = IncidentState
_OPEN = (S.DETECTED, S.CONTAINED, S.PATCHED, S.VERIFIED, S.APPROVED, S.UPGRADED, S.RESUMED)


class IncidentDriver:
    """Runs the flow of each open incident of ``network``'s protocols, one incident at a time."""

    def __init__(
        self,
        config: BulwarkConfig,
        store: Store,
        network: str,
        client: ChainClient,
        relayer: Signer,
        responder: Callable[[], Awaitable[Responder]] | None,
        *,
        workdir: Path,
        rpc_url: str,
        notifier: Notifier | None = None,
        on_event: Callable[[FlowEvent], None] | None = None,
        interval_s: float = 2.0,
    ) -> None:
        self.config = config
        self.store = store
        self.protocols = [n for n, p in config.protocols.items() if p.network == network]
        self.client = client
        self.relayer = relayer
        self.responder = responder
        self.workdir = workdir
        self.rpc_url = rpc_url
        self.notifier = notifier
        self.on_event = on_event
        self.interval_s = interval_s
        self._poked = asyncio.Event()
        self._failed: set[str] = set()  # incidents whose step raised: retried on the next tick only
        # Protocols the configuration cannot patch and govern stay at containment (said once).
        self.unsupported: dict[str, list[str]] = {}
        for name in list(self.protocols):
            missing = self._pipeline(name).missing()
            if missing:
                self.unsupported[name] = missing
                self.protocols.remove(name)

    def poke(self) -> None:
        self._poked.set()

    def open_incidents(self) -> list[str]:
        """Incidents of our protocols, not yet at rest.

        A DETECTED incident counts only once a containment was sent for it (a finding alone is an
        alert, not an incident to patch), or when its finding is pre-emptive (intel matched our own
        code: it is patched without containment)."""
        out = []
        for state in _OPEN:
            for inc in self.store.incidents(state):
                if inc.protocol not in self.protocols:
                    continue
                if (
                    state is S.DETECTED
                    and not any(a.tx_hash for a in self.store.actions(inc.id))
                    and not self._preemptive(inc.id)
                ):
                    continue
                out.append((inc.opened_at, inc.id))
        return [iid for _, iid in sorted(out)]

    def _preemptive(self, incident_id: str) -> bool:
        findings = self.store.findings(incident_id)
        return bool(findings) and is_preemptive(findings[0])

    def _pipeline(self, protocol: str, *, contain: bool = True) -> ProtocolPipeline:
        return ProtocolPipeline(
            self.config,
            protocol,
            self.client,
            self.relayer,
            PipelineOptions(workdir=self.workdir),
            rpc_url=self.rpc_url,
            contain=ContainStep(self.client, self.responder) if contain else None,
        )

    def flow(self, incident_id: str) -> IncidentFlow:
        # Nothing was paused for a pre-emptive incident: it has no contain step (DETECTED -> PATCHED).
        pipeline = self._pipeline(
            self.store.incident(incident_id).protocol, contain=not self._preemptive(incident_id)
        )
        show = self.on_event

        def shown(e: FlowEvent) -> None:  # a step already done is skipped on every tick: not news
            if show is not None and e.kind != "skipped":
                show(e)

        return IncidentFlow(
            self.store, pipeline.steps(), announced(self.notifier, self.store, incident_id, shown)
        )

    async def tick(self) -> dict[str, IncidentState]:
        """Carry each open incident as far as it goes now; returns where each one stands."""
        out: dict[str, IncidentState] = {}
        for iid in self.open_incidents():
            try:
                out[iid] = await self.flow(iid).run(iid)
            except BulwarkError as exc:  # the chain went away mid-step, ...: try again next tick
                if iid not in self._failed:
                    log.error("incident step could not run", incident=iid, error=exc.user_message)
                self._failed.add(iid)
            except Exception:  # a bug here must not stop detection and containment: logged, retried
                if iid not in self._failed:
                    log.exception("incident step crashed", incident=iid)
                self._failed.add(iid)
            else:
                self._failed.discard(iid)
        return out

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._poked.clear()
            await self.tick()
            waits = [asyncio.create_task(self._poked.wait()), asyncio.create_task(stop.wait())]
            await asyncio.wait(waits, timeout=self.interval_s, return_when=asyncio.FIRST_COMPLETED)
            for t in waits:
                t.cancel()
