"""Publishing what an incident taught: its attack transactions → chain facts (:func:`collect_evidence`)
+ the patch stage's localisation of the vulnerable function, abstracted into an AST fingerprint →
indicators → a signed STIX bundle on a feed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from bulwark.chain import ChainClient, Signer
from bulwark.domain import VulnClass
from bulwark.errors import BulwarkError
from bulwark.intel.bundle import build_bundle
from bulwark.intel.feeds import FileFeed, TaxiiFeed
from bulwark.intel.fingerprint import ast_fingerprint, function_at
from bulwark.intel.indicators import (
    AttackEvidence,
    Indicator,
    VulnerableCode,
    collect_evidence,
    derive_indicators,
)
from bulwark.logs import get_logger
from bulwark.patch import PatchRequest
from bulwark.patch.engine import analyse
from bulwark.store import Store
from bulwark.toolchain.solc import Compiler

__all__ = [
    "MIN_SCORE",
    "IntelActionError",
    "evidence_for_incident",
    "incident_indicators",
    "publish_incident",
    "vulnerable_code",
]

log = get_logger(__name__)

MIN_SCORE = 0.5  # localisations weaker than this are neither published nor trusted in a scan


class IntelActionError(BulwarkError, RuntimeError):
    """Intelligence could not be turned into an action (an incident with nothing to learn from)."""


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
    found = [f for f in analysis.findings if f.score >= MIN_SCORE and f.start is not None and f.path in asts]
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
