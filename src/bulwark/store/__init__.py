"""Durable state: incidents, findings, actions, checkpoints and the hash-chained audit log.

Nothing else in Bulwark writes durable state. SQLite by default, PostgreSQL by URL.
"""

from bulwark.domain.canonical import canonical_json
from bulwark.store.audit import AuditEntry, AuditVerification
from bulwark.store.db import Store, default_url

__all__ = ["AuditEntry", "AuditVerification", "Store", "canonical_json", "default_url"]
