"""The store: one object over one database, migrated on open.

Its tables live by job in their own modules: the database and the audit log every write appends
to (:mod:`~bulwark.store.journal`), incidents and findings (:mod:`~bulwark.store.incidents`),
actions (:mod:`~bulwark.store.actions`), documents and signatures (:mod:`~bulwark.store.documents`),
checkpoints and leases (:mod:`~bulwark.store.progress`), and the log's verification
(:mod:`~bulwark.store.verification`). :class:`Store` puts them together.
"""

from __future__ import annotations

from collections.abc import Sequence

from bulwark.store.actions import ActionTable
from bulwark.store.audit import Anchor, AuditVerification
from bulwark.store.documents import DocumentTable
from bulwark.store.engine import default_url
from bulwark.store.incidents import IncidentTable
from bulwark.store.progress import CheckpointTable, LeaseTable
from bulwark.store.records import ActionRecord, Checkpoint, IncidentRecord
from bulwark.store.verification import verify_log

__all__ = ["ActionRecord", "Checkpoint", "IncidentRecord", "Store", "default_url"]


class Store(IncidentTable, ActionTable, DocumentTable, CheckpointTable, LeaseTable):
    """Incidents, findings, actions, artifacts, checkpoints, leases and the audit log.

    Every state transition is written to the audit log in the same database transaction that
    changes the state, before the caller acts on it.
    """

    def verify_audit(self, anchors: Sequence[Anchor] = ()) -> AuditVerification:
        """Recompute the chain (and, with the audit key, every entry's MAC); check it still
        reaches each anchor with the same hash; replay it and compare the incident and action
        tables. Name the first entry, anchor or row that does not hold."""
        with self._tx() as session:
            return verify_log(session, self._audit_key, anchors)
