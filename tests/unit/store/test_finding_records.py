"""The store keeps a finding in the domain's one codec: the record it hands back is what
``--json`` and the bus carry, it reads back to the same Finding, and records written before the
codec (by an earlier version, into the same table) still read."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text

from bulwark.detect.report import finding_json
from bulwark.domain import Action, Address, Confidence, Finding, Selector, Severity, TxHash, VulnClass
from bulwark.domain.finding import finding_from_json, finding_to_json
from bulwark.store import Store


def _finding() -> Finding:
    return Finding(
        detector="reentrancy",
        vuln_class=VulnClass.REENTRANCY,
        severity=Severity.HIGH,
        confidence=Confidence.MEDIUM,
        title="withdraw re-entered",
        protocol="vault",
        contract=Address("0x" + "ab" * 20),
        tx_hash=TxHash("0x" + "cd" * 32),
        pending=False,
        block_number=12,
        function=Selector("0x2e1a7d4d"),
        action=Action.PAUSE_SELECTORS,
        selectors=(Selector("0x2e1a7d4d"), Selector("0xa9059cbb")),
        evidence={"depth": 3, "loss_wei": 10**21, "path": ["Vault", "Attacker"]},
    )


def test_a_stored_finding_is_the_one_codecs_json_and_reads_back(store: Store) -> None:
    f = _finding()
    inc = store.open_incident(f)
    (record,) = store.findings(inc.id)
    assert {k: v for k, v in record.items() if k not in ("id", "withdrawn")} == finding_json(f)
    assert finding_from_json(record) == f
    # the audit log's opening entry carries the same object
    opened = next(e for e in store.audit_entries(inc.id) if e.kind == "incident.opened")
    assert opened.payload["finding"] == finding_to_json(f)


def test_records_written_by_an_earlier_version_still_read(store: Store) -> None:
    """Rows as the store wrote them before the codec (key ``class``) and in the field-name form
    (``vuln_class``), put straight into the table: both read back to the finding."""
    f = _finding()
    earlier = {
        "detector": "reentrancy",
        "class": "reentrancy",
        "severity": "high",
        "confidence": "medium",
        "title": "withdraw re-entered",
        "protocol": "vault",
        "contract": f.contract,
        "tx_hash": f.tx_hash,
        "pending": False,
        "block_number": 12,
        "function": "0x2e1a7d4d",
        "action": "pause-selectors",
        "selectors": ["0x2e1a7d4d", "0xa9059cbb"],
        "evidence": {"depth": 3, "loss_wei": 10**21, "path": ["Vault", "Attacker"]},
    }
    field_names = {k: v for k, v in earlier.items() if k != "class"} | {"vuln_class": "reentrancy"}
    engine = create_engine(store.url)
    with engine.begin() as conn:
        for data in (earlier, field_names):
            conn.execute(
                text(
                    "INSERT INTO findings (incident_id, detector, vuln_class, severity, protocol, contract,"
                    " tx_hash, block_number, block_hash, pending, withdrawn, data, at) VALUES (NULL,"
                    " 'reentrancy', 'reentrancy', 'high', 'vault', :c, :t, 12, NULL, false, false, :d,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"c": f.contract, "t": f.tx_hash, "d": json.dumps(data)},
            )
    engine.dispose()
    assert [finding_from_json(r) for r in store.findings()] == [f, f]
