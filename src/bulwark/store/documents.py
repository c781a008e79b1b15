"""Documents kept by id (proposals, evidence, run records) with a state, and the signatures
collected on proposals. Evidence is kept under its own hash and re-hashed when read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bulwark.domain.evidence import RecordedVerdict, hash_document
from bulwark.errors import StoreError
from bulwark.store.engine import now
from bulwark.store.journal import Journal
from bulwark.store.models import ArtifactRow, SignatureRow


class DocumentTable(Journal):
    def put_artifact(
        self,
        artifact_id: str,
        kind: str,
        body: dict[str, Any],
        *,
        incident_id: str | None = None,
        state: str = "",
    ) -> str:
        """Store a document; returns its canonical-JSON sha256."""
        digest = hash_document(body)
        with self._tx() as session:
            row = session.get(ArtifactRow, artifact_id)
            if row is None:
                session.add(
                    ArtifactRow(
                        id=artifact_id,
                        incident_id=incident_id,
                        kind=kind,
                        state=state,
                        sha256=digest,
                        body=body,
                        at=now(),
                    )
                )
            else:
                row.body, row.sha256, row.state = body, digest, state or row.state
            session.flush()
            self._append(
                session, f"{kind}.stored", {"id": artifact_id, "sha256": digest, "state": state}, incident_id
            )
        return digest

    def artifact(self, artifact_id: str) -> tuple[str, str, dict[str, Any]]:
        """(kind, state, body) of a stored document."""
        with self._tx() as session:
            row = session.get(ArtifactRow, artifact_id)
            if row is None:
                raise StoreError(f"no stored {artifact_id!r}")
            return row.kind, row.state, dict(row.body)

    def artifacts(self, kind: str, incident_id: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
        with self._tx() as session:
            q = select(ArtifactRow).where(ArtifactRow.kind == kind).order_by(ArtifactRow.at)
            if incident_id is not None:
                q = q.where(ArtifactRow.incident_id == incident_id)
            return [(r.id, r.state, dict(r.body)) for r in session.execute(q).scalars()]

    def put_evidence(self, document: dict[str, Any], *, incident_id: str | None = None) -> str:
        """Store an evidence document under its own hash (``evidence:<sha256>``); returns the hash."""
        digest = hash_document(document)
        state = "verified" if document.get("pass") is True else "failed"
        self.put_artifact(f"evidence:{digest}", "evidence", document, incident_id=incident_id, state=state)
        return digest

    def verdict(self, evidence_hash: str) -> RecordedVerdict | None:
        """The verdict whose evidence document is stored under ``evidence_hash``, or ``None``.

        The document is re-hashed: one edited in the database since it was stored is refused."""
        key = f"evidence:{evidence_hash.lower()}"
        with self._tx() as session:
            row = session.get(ArtifactRow, key) or session.get(ArtifactRow, f"evidence:{evidence_hash}")
            if row is None or row.kind != "evidence":
                return None
            body = dict(row.body)
        digest = hash_document(body)
        if digest != evidence_hash.lower():
            raise StoreError(
                f"the stored evidence {evidence_hash} hashes to {digest}: it was altered after it was "
                "stored; verify the candidate again"
            )
        return RecordedVerdict.from_document(digest, body)

    def set_artifact_state(self, artifact_id: str, state: str, reason: str = "") -> None:
        with self._tx() as session:
            row = session.get(ArtifactRow, artifact_id)
            if row is None:
                raise StoreError(f"no stored {artifact_id!r}")
            old, row.state = row.state, state
            self._append(
                session,
                f"{row.kind}.state",
                {"id": artifact_id, "from": old, "to": state, "reason": reason},
                row.incident_id,
            )

    # -- signatures on proposals -----------------------------------------------------------------

    def add_signature(self, proposal_id: str, signer: str, decision: str, signature: str) -> None:
        try:
            with self._tx() as session:
                session.add(
                    SignatureRow(
                        proposal_id=proposal_id,
                        signer=signer,
                        decision=decision,
                        signature=signature,
                        at=now(),
                    )
                )
                session.flush()
                self._append(
                    session, f"signature.{decision}", {"proposal": proposal_id, "signer": signer}, None
                )
        except IntegrityError as exc:
            raise StoreError(f"{signer} has already signed proposal {proposal_id}") from exc

    def signatures(self, proposal_id: str) -> list[tuple[str, str, str]]:
        """(signer, decision, signature) in the order they arrived."""
        with self._tx() as session:
            q = select(SignatureRow).where(SignatureRow.proposal_id == proposal_id).order_by(SignatureRow.id)
            return [(r.signer, r.decision, r.signature) for r in session.execute(q).scalars()]
