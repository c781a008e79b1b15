"""Run the verification a bundle records again, from the bundle alone, against an archive node.

The bundle's sources (candidate and live implementation, dependencies included) are written to a
fresh directory that becomes the compiler's root, so source unit names, and with them the
document, come out as they were; the request is rebuilt from the document's ``replay`` section
and handed to the one verifier (:func:`bulwark.verify.engine.verify`). The verdict (pass and the
reasons) is compared with the recorded one, and so is the evidence hash.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from bulwark.domain import Address
from bulwark.fork.session import VerifyError
from bulwark.toolchain.paths import node_modules
from bulwark.toolchain.solc import Compiler
from bulwark.verify.bundle import EvidenceMismatch, field_digests, unwrap_bundle
from bulwark.verify.engine import VerifyRequest, verify
from bulwark.verify.evidence import sha256_hex

__all__ = ["Rerun", "rerun_bundle"]


@dataclass(frozen=True, slots=True)
class Rerun:
    """The recorded verdict against the one reproduced on the archive node."""

    recorded_hash: str
    reproduced_hash: str
    recorded_passed: bool
    reproduced_passed: bool
    recorded_reasons: tuple[str, ...]  # "check:code:subject", sorted
    reproduced_reasons: tuple[str, ...]
    differing: tuple[str, ...]  # the document's fields that came out differently

    @property
    def same_verdict(self) -> bool:
        return (self.recorded_passed, self.recorded_reasons) == (
            self.reproduced_passed,
            self.reproduced_reasons,
        )

    def summary(self) -> dict[str, Any]:
        return {
            "same_verdict": self.same_verdict,
            "same_hash": self.recorded_hash == self.reproduced_hash,
            "differing_fields": list(self.differing),
            "recorded": {"hash": self.recorded_hash, "passed": self.recorded_passed,
                         "reasons": list(self.recorded_reasons)},
            "reproduced": {"hash": self.reproduced_hash, "passed": self.reproduced_passed,
                           "reasons": list(self.reproduced_reasons)},
        }  # fmt: skip


def _reasons(reasons: Any) -> tuple[str, ...]:
    return tuple(
        sorted(
            f"{r.get('check')}:{r.get('code')}:{r.get('subject')}"
            for r in reasons or ()
            if isinstance(r, Mapping) and r.get("fatal", True)
        )
    )


def _write_sources(root: Path, section: Any, what: str) -> tuple[Path, str]:
    """Write ``section``'s sources under ``root``; the main file and its contract name."""
    if not isinstance(section, Mapping) or not isinstance(section.get("sources"), Mapping):
        raise EvidenceMismatch(f"the bundle's {what} has no sources to compile")
    for unit, entry in section["sources"].items():
        rel = _inside(str(unit), what)
        if not isinstance(entry, Mapping):
            raise EvidenceMismatch(f"the bundle's {what} source {unit} is not an object")
        content = entry.get("content")
        if not isinstance(content, str):
            content = _installed(rel, entry.get("sha256"), what)
        elif sha256_hex(content) != entry.get("sha256"):
            raise EvidenceMismatch(f"the bundle's {what} source {unit} does not match its sha256")
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    path, _, name = str(section.get("contract") or "").rpartition(":")
    if not path or not name:
        raise EvidenceMismatch(f"the bundle's {what} names no contract (path:Name)")
    return root / _inside(path, what), name


def _inside(unit: str, what: str) -> PurePosixPath:
    """Where a source unit goes in the scratch root. The bundle is untrusted input: nothing is
    written outside that root. Units outside the original project (candidates materialised in a
    work directory have absolute names) go under ``_abs/``, keeping their relative imports."""
    path = PurePosixPath(unit)
    if path.is_absolute():
        path = PurePosixPath("_abs", *path.parts[1:])
    if ".." in path.parts or not path.parts:
        raise EvidenceMismatch(f"the bundle's {what} source path {unit!r} leaves the source tree")
    return path


def _installed(unit: PurePosixPath, digest: Any, what: str) -> str:
    """A dependency the bundle names only by hash (OpenZeppelin, Safe): the locally installed copy,
    which must be byte for byte the one verified."""
    parts = unit.parts[1:] if unit.parts[0] == "node_modules" else unit.parts
    path = node_modules().joinpath(*parts)
    try:
        content = path.read_text(encoding="utf-8")
    except OSError:
        raise VerifyError(
            f"the bundle's {what} imports {unit}, which is not installed here ({path}): install the "
            "package version the bundle was verified with"
        ) from None
    if sha256_hex(content) != digest:
        raise VerifyError(
            f"the installed {path} is not the {unit} the bundle was verified with (sha256 {digest}): "
            "install that package version"
        )
    return content


def _addresses(values: Any) -> tuple[Address, ...]:
    return tuple(Address(str(v)) for v in values or ())


def rerun_bundle(bundle: Any, rpc_url: str) -> Rerun:
    """Check ``bundle`` offline, then verify its candidate again on a fork of ``rpc_url``."""
    from bulwark.chain import run

    document = unwrap_bundle(bundle)
    replay = document.get("replay")
    if not isinstance(replay, Mapping):
        raise VerifyError(
            "the bundle records no replay inputs (made before they were recorded): verify again"
        )
    invariants = document.get("invariants")
    if isinstance(invariants, Mapping) and invariants.get("declared"):
        raise VerifyError("re-running a verification with declared invariants is not supported yet")
    if replay.get("poc"):
        raise VerifyError("re-running a verification with a Foundry PoC is not supported yet")
    chain = document.get("chain")
    if not isinstance(chain, Mapping) or not chain.get("proxy"):
        raise EvidenceMismatch("the bundle's chain section names no proxy")

    with tempfile.TemporaryDirectory(prefix="bulwark-evidence-") as tmp:
        root = Path(tmp)
        candidate, _ = _write_sources(root, document.get("candidate"), "candidate")
        live = document.get("live")
        live_section = live.get("source") if isinstance(live, Mapping) else None
        live_source = _write_sources(root, live_section, "live implementation")[0] if live_section else None
        upgrader, oracle = replay.get("upgrader"), replay.get("price_oracle")
        request = VerifyRequest(
            rpc_url=rpc_url,
            proxy=Address(str(chain["proxy"])),
            candidate=candidate,
            # as the original request gave them (they are part of the document)
            contract=replay.get("contract"),
            live_source=live_source,
            live_contract=replay.get("live_contract"),
            attack_txs=tuple(str(h) for h in document.get("attack_txs") or ()),
            regress=int(replay.get("regress") or 0),
            protected=_addresses(replay.get("protected")),
            assets=_addresses(replay.get("assets")),
            defenders=_addresses(replay.get("defenders")),
            upgrader=Address(str(upgrader)) if upgrader else None,
            price_oracle=Address(str(oracle)) if oracle else None,
            fork_block=replay.get("fork_block"),
            max_gas_overhead_pct=replay.get("max_gas_overhead_pct"),
            search_roots=(root,),
        )
        with Compiler(root=root) as compiler:
            verdict = run(verify(request, compiler=compiler))
    before, after = field_digests(document), field_digests(verdict.evidence.document)
    return Rerun(
        recorded_hash=str(bundle["evidence_hash"]),
        reproduced_hash=verdict.evidence_hash,
        recorded_passed=document.get("pass") is True,
        reproduced_passed=verdict.passed,
        recorded_reasons=_reasons(document.get("reasons")),
        reproduced_reasons=_reasons(verdict.evidence.document.get("reasons")),
        differing=tuple(sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))),
    )
