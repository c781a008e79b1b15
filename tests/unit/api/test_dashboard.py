"""The dashboard's JSON API and pages over a real SQLite store seeded through the flow."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from tests.support import incident_seed as seed_mod

from bulwark.api import SignedDecision, create_app
from bulwark.api.eip712 import signing_requests
from bulwark.chain.safe import SafeTx, sign_safe_tx
from bulwark.domain import Severity
from bulwark.errors import SignatureRejected
from bulwark.metrics import Metrics
from bulwark.store import Store

KEY_A, KEY_B = seed_mod.SIGNER_KEYS


class FakeActions:
    """Records what reaches the app; can be told to refuse like governance would."""

    def __init__(self, store_url: str) -> None:
        self.calls: list[tuple[str, str, SignedDecision]] = []
        self.refuse: str | None = None
        self.store = Store(store_url)

    async def approve(self, proposal_id: str, signature: SignedDecision) -> None:
        if self.refuse:
            raise SignatureRejected(self.refuse)
        self.calls.append(("approve", proposal_id, signature))
        self.store.add_signature(proposal_id, signature.signer, "approve", "0x" + signature.signature.hex())

    async def reject(self, proposal_id: str, signature: SignedDecision) -> None:
        self.calls.append(("reject", proposal_id, signature))
        self.store.add_signature(proposal_id, signature.signer, "reject", "0x" + signature.signature.hex())
        self.store.set_artifact_state(proposal_id, "rejected", signature.reason)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, seed_mod.Seeded]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'bulwark.db'}"
    store = Store(url)
    seeded = seed_mod.seed(store)
    store.close()
    return url, seeded


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[str, seed_mod.Seeded]:
    """A store of its own, for tests that write (signatures, rejections)."""
    url = f"sqlite:///{tmp_path / 'bulwark.db'}"
    store = Store(url)
    seeded = seed_mod.seed(store)
    store.close()
    return url, seeded


@pytest.fixture(scope="module")
def client(db: tuple[str, seed_mod.Seeded]) -> TestClient:
    return TestClient(create_app(db[0], metrics=Metrics()))


def _sign_approval(body: dict, key: str) -> list[str]:
    """Sign the way governance does (bulwark.chain.safe), not with the dashboard's own documents."""
    out = []
    for t in body["safe_txs"]:
        tx = SafeTx(to=t["to"], data=bytes.fromhex(t["data"][2:]), nonce=t["nonce"])
        out.append("0x" + sign_safe_tx(tx, body["chain_id"], body["safe"], key).signature.hex())
    return out


# -- read API ------------------------------------------------------------------------------------------


def test_incidents_list_and_detail(client: TestClient, db: tuple[str, seed_mod.Seeded]) -> None:
    iid = db[1].incident_id
    listed = client.get("/api/incidents").json()
    assert [i["id"] for i in listed] == [iid]
    assert listed[0]["state"] == "closed" and listed[0]["severity"] == "critical"

    detail = client.get(f"/api/incidents/{iid}").json()
    assert [s["name"] for s in detail["steps"]] == [
        "contain",
        "patch",
        "verify",
        "approve",
        "upgrade",
        "resume",
        "close",
    ]
    patch = next(s for s in detail["steps"] if s["name"] == "patch")
    assert patch["diff"] == seed_mod.DIFF
    verify = next(s for s in detail["steps"] if s["name"] == "verify")
    assert verify["evidence_hash"] == seed_mod.EVIDENCE_HASH
    transitions = [e["payload"]["to"] for e in detail["timeline"] if e["kind"] == "incident.transition"]
    assert transitions == ["contained", "patched", "verified", "approved", "upgraded", "resumed", "closed"]
    assert detail["actions"][0]["tx_hash"] == seed_mod.PAUSE_TX
    assert [p["state"] for p in detail["proposals"]] == ["executed"]
    assert all(p["reached"] for p in detail["path"])
    assert client.get("/api/incidents/inc-nope").status_code == 404


def test_findings_proposals_protocols(client: TestClient, db: tuple[str, seed_mod.Seeded]) -> None:
    findings = client.get("/api/findings").json()
    assert [f["severity"] for f in findings] == ["medium", "critical"]  # newest first
    assert client.get("/api/findings", params={"incident": db[1].incident_id}).json()[0]["tx_hash"] == (
        seed_mod.ATTACK_TX
    )
    proposals = {p["id"]: p for p in client.get("/api/proposals").json()}
    pending = proposals[db[1].pending_proposal]
    assert pending["state"] == "pending" and pending["signed"] == [] and pending["threshold"] == 2
    assert sorted(pending["missing"]) == sorted(seed_mod.signer_addresses())
    done = proposals[f"prop-{db[1].incident_id}"]
    assert len(done["signed"]) == 2 and done["met"] is True
    protocols = {p["protocol"]: p["status"] for p in client.get("/api/protocols").json()}
    assert protocols == {"demo-lending": "operating", "demo-vault": "operating"}


def test_audit_and_its_verification(client: TestClient, db: tuple[str, seed_mod.Seeded]) -> None:
    entries = client.get("/api/audit").json()
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["kind"] == "incident.opened"
    only = client.get("/api/audit", params={"incident": db[1].incident_id}).json()
    assert only and all(e["incident"] == db[1].incident_id for e in only)
    assert client.get("/api/audit/verify").json() == {
        "ok": True,
        "entries": len(entries),
        "first_broken": None,
        "reason": "",
        "mode": "hash-chained only (not keyed: no audit key given)",
        "unchecked_macs": 0,
        "anchors": 0,
        "rows": 2,  # the incident and its pause action, both as the log says
    }


def test_audit_verification_reports_a_tampered_entry(fresh: tuple[str, seed_mod.Seeded]) -> None:
    url, _ = fresh
    import sqlite3

    # Tampering is what an attacker with database access would do: change a row behind the store.
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    seq = conn.execute("SELECT min(seq) FROM audit_log WHERE kind = 'incident.transition'").fetchone()[0]
    assert seq is not None
    changed = conn.execute(
        "UPDATE audit_log SET payload = replace(payload, 'contain done', 'nothing happened') WHERE seq = ?",
        (seq,),
    ).rowcount
    assert changed == 1
    conn.commit()
    conn.close()
    c = TestClient(create_app(url, metrics=Metrics()))
    result = c.get("/api/audit/verify").json()
    assert result["ok"] is False and result["first_broken"] == seq
    page = c.get("/audit").text
    assert f"audit log BROKEN at entry {seq}" in page
    assert page.count('class="broken"') == 1


# -- pages ------------------------------------------------------------------------------------------------


def test_pages_render_and_escape_the_diff(client: TestClient, db: tuple[str, seed_mod.Seeded]) -> None:
    iid = db[1].incident_id
    page = client.get(f"/incidents/{iid}")
    assert page.status_code == 200
    text = page.text
    # The diff's "<flash-loan>" is data, never markup.
    assert "&lt;flash-loan&gt;" in text and "<flash-loan>" not in text
    diff_block = re.search(r'<pre class="diff" id="diff-patch">(.*?)</pre>', text, re.S)
    assert diff_block is not None
    plain = html.unescape(re.sub(r"<[^>]+>", "", diff_block.group(1)))
    assert plain.strip("\n") == seed_mod.DIFF.strip("\n")
    assert '<span class="add">+        uint256 price = oracle.twap' in text
    assert '<span class="del">-        uint256 price = oracle.spotPrice' in text
    assert seed_mod.EVIDENCE_HASH in text and "benign_replays" in text
    assert "inc-demo0001" in client.get("/").text
    assert "Outflow above the hourly limit" in client.get("/findings").text
    assert db[1].pending_proposal in client.get("/proposals").text
    assert client.get("/incidents/nope").status_code == 404
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp


def test_pages_load_nothing_from_another_origin(client: TestClient, db: tuple[str, seed_mod.Seeded]) -> None:
    for path in ("/", f"/incidents/{db[1].incident_id}", f"/proposals/{db[1].pending_proposal}", "/audit"):
        text = client.get(path).text
        for ref in re.findall(r'(?:src|href)="([^"]+)"', text):
            assert ref.startswith("/") or ref == "data:,", f"{path} references {ref}"
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/wallet.js").status_code == 200


def test_read_only_dashboard_refuses_decisions(client: TestClient, db: tuple[str, seed_mod.Seeded]) -> None:
    pid = db[1].pending_proposal
    r = client.post(
        f"/api/proposals/{pid}/approve", json={"signer": "0x" + "00" * 20, "signatures": ["0x00"]}
    )
    assert r.status_code == 503
    assert "read-only" in client.get(f"/proposals/{pid}").text


# -- signing -----------------------------------------------------------------------------------------------


def test_signing_documents_hash_to_the_stored_safe_tx_hashes(
    client: TestClient, db: tuple[str, seed_mod.Seeded]
) -> None:
    from eth_account.messages import _hash_eip191_message, encode_typed_data

    plan = client.get(
        f"/api/proposals/{db[1].pending_proposal}/signing", params={"decision": "approve"}
    ).json()
    body = client.get(f"/api/proposals/{db[1].pending_proposal}").json()
    assert [r["step"] for r in plan["requests"]] == ["schedule", "execute"]
    for req, tx in zip(plan["requests"], body["safe_txs"], strict=True):
        digest = _hash_eip191_message(encode_typed_data(full_message=req["typed_data"]))
        assert "0x" + digest.hex() == tx["safe_tx_hash"]


def test_approve_from_the_page_reaches_the_actions(fresh: tuple[str, seed_mod.Seeded]) -> None:
    url, seeded = fresh
    actions = FakeActions(url)
    c = TestClient(create_app(url, actions, metrics=Metrics()))
    pid = seeded.pending_proposal
    body = c.get(f"/api/proposals/{pid}").json()
    signer = Account.from_key(KEY_A).address
    r = c.post(
        f"/api/proposals/{pid}/approve", json={"signer": signer, "signatures": _sign_approval(body, KEY_A)}
    )
    assert r.status_code == 200, r.text
    assert r.json()["signer"] == signer and r.json()["proposal"]["signed"] == [signer]
    [(decision, called_pid, signed)] = actions.calls
    assert (decision, called_pid, signed.signer, len(signed.signature)) == ("approve", pid, signer, 130)
    assert "1/2" in c.get(f"/proposals/{pid}").text


def test_signatures_from_someone_else_or_over_another_hash_are_refused(
    fresh: tuple[str, seed_mod.Seeded],
) -> None:
    url, seeded = fresh
    actions = FakeActions(url)
    c = TestClient(create_app(url, actions, metrics=Metrics()))
    pid = seeded.pending_proposal
    body = c.get(f"/api/proposals/{pid}").json()
    a = Account.from_key(KEY_A).address
    outsider = Account.from_key(seed_mod.OUTSIDER_KEY).address

    # Signed by B but claimed to be A.
    r = c.post(f"/api/proposals/{pid}/approve", json={"signer": a, "signatures": _sign_approval(body, KEY_B)})
    assert r.status_code == 400 and "not " + a in r.json()["detail"]
    # The signatures of the executed proposal (other nonces, other hashes) do not carry over.
    other = c.get(f"/api/proposals/prop-{seeded.incident_id}").json()
    r = c.post(
        f"/api/proposals/{pid}/approve", json={"signer": a, "signatures": _sign_approval(other, KEY_A)}
    )
    assert r.status_code == 400
    # A valid signature from someone the proposal does not make eligible.
    r = c.post(
        f"/api/proposals/{pid}/approve",
        json={"signer": outsider, "signatures": _sign_approval(body, seed_mod.OUTSIDER_KEY)},
    )
    assert r.status_code == 400 and "not eligible" in r.json()["detail"]
    # One signature where two are needed, and garbage.
    r = c.post(
        f"/api/proposals/{pid}/approve", json={"signer": a, "signatures": _sign_approval(body, KEY_A)[:1]}
    )
    assert r.status_code == 400
    r = c.post(f"/api/proposals/{pid}/approve", json={"signer": a, "signatures": ["0xzz", "0x00"]})
    assert r.status_code == 400
    assert actions.calls == []
    # Governance's own refusal comes back as a conflict with its message.
    actions.refuse = "proposal expired: propose again"
    r = c.post(f"/api/proposals/{pid}/approve", json={"signer": a, "signatures": _sign_approval(body, KEY_A)})
    assert r.status_code == 409 and r.json()["detail"] == "proposal expired: propose again"


def test_reject_is_bound_to_the_reason_and_closes_the_proposal(fresh: tuple[str, seed_mod.Seeded]) -> None:
    url, seeded = fresh
    actions = FakeActions(url)
    c = TestClient(create_app(url, actions, metrics=Metrics()))
    pid = seeded.pending_proposal
    body = c.get(f"/api/proposals/{pid}").json()["body"]
    [req] = signing_requests(body, "reject", "patch breaks liquidations")
    sig = Account.sign_typed_data(KEY_B, full_message=req["typed_data"]).signature.to_0x_hex()
    signer = Account.from_key(KEY_B).address
    # The same signature with another reason is a different message.
    r = c.post(
        f"/api/proposals/{pid}/reject", json={"signer": signer, "signatures": [sig], "reason": "other"}
    )
    assert r.status_code == 400
    r = c.post(
        f"/api/proposals/{pid}/reject",
        json={"signer": signer, "signatures": [sig], "reason": "patch breaks liquidations"},
    )
    assert r.status_code == 200, r.text
    assert actions.calls[0][2].reason == "patch breaks liquidations"
    assert r.json()["proposal"]["state"] == "rejected"
    # A closed proposal takes no more decisions, and its page offers none.
    r = c.post(f"/api/proposals/{pid}/approve", json={"signer": signer, "signatures": ["0x00", "0x00"]})
    assert r.status_code == 409
    assert 'id="approve"' not in c.get(f"/proposals/{pid}").text


# -- metrics ----------------------------------------------------------------------------------------------


def test_metrics_endpoint_exposes_stage_metrics_and_incident_counts(db: tuple[str, seed_mod.Seeded]) -> None:
    m = Metrics()
    c = TestClient(create_app(db[0], metrics=m))
    m.set_blocks_behind("mainnet", 3)
    m.count_screened("mainnet", 250)
    m.count_finding(Severity.CRITICAL)
    m.count_finding(Severity.CRITICAL)
    m.observe_time_to_contain("demo-lending", 0.042)
    m.set_relayer_balance("mainnet", "0xAbC0000000000000000000000000000000000001", 1_500_000_000_000_000_000)
    r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'bulwark_blocks_behind_head{network="mainnet"} 3.0' in text
    assert 'bulwark_pending_transactions_screened_total{network="mainnet"} 250.0' in text
    assert 'bulwark_findings_total{severity="critical"} 2.0' in text
    assert 'bulwark_findings_total{severity="low"} 0.0' in text
    assert 'bulwark_time_to_contain_seconds_bucket{le="0.05",protocol="demo-lending"} 1.0' in text
    assert 'bulwark_time_to_contain_seconds_bucket{le="0.025",protocol="demo-lending"} 0.0' in text
    addr = "0x" + "abc".ljust(40, "0")[:39] + "1"
    assert f'bulwark_relayer_balance_eth{{address="{addr}",network="mainnet"}} 1.5' in text
    assert 'bulwark_incidents{state="closed"} 1.0' in text
    assert 'bulwark_incidents{state="detected"} 0.0' in text


def test_the_same_read_models_on_postgresql(db: tuple[str, seed_mod.Seeded]) -> None:
    from sqlalchemy import create_engine, text
    from tests.support.postgres import postgres_server

    with postgres_server() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        store = Store(url)
        seeded = seed_mod.seed(store)
        store.close()
        app = create_app(url, metrics=Metrics())
        with TestClient(app) as pg:
            detail = pg.get(f"/api/incidents/{seeded.incident_id}").json()
            assert pg.get("/api/audit/verify").json()["ok"] is True
            assert "&lt;flash-loan&gt;" in pg.get(f"/incidents/{seeded.incident_id}").text
    with TestClient(create_app(db[0], metrics=Metrics())) as lite:
        reference = lite.get(f"/api/incidents/{db[1].incident_id}").json()
    # Same documents whichever database holds them (timestamps and hashes aside).
    assert detail["incident"]["opened_at"].endswith("+00:00")
    assert [s["name"] for s in detail["steps"]] == [s["name"] for s in reference["steps"]]
    assert [e["kind"] for e in detail["timeline"]] == [e["kind"] for e in reference["timeline"]]
    assert all(e["offset_ms"] >= 0 for e in detail["timeline"])
    assert detail["steps"][1]["diff"] == reference["steps"][1]["diff"] == seed_mod.DIFF


# -- the verdict beside the evidence hash (#16.4) --------------------------------------------------


def test_proposal_shows_its_verdict_or_warns_loudly_when_there_is_none(
    fresh: tuple[str, seed_mod.Seeded],
) -> None:
    url, seeded = fresh
    store = Store(url)
    failed_doc = {
        "format": "bulwark.verify.evidence/1",
        "pass": False,
        "candidate": {"contract": "src/Pool.sol:Pool", "runtime_code_sha256": "0x" + "ab" * 32},
        "reasons": [
            {"code": "attack-succeeds", "message": "the attack still drains the pool", "fatal": True}
        ],
    }
    failed = store.put_evidence(failed_doc)
    body = seed_mod.proposal_body("prop-failed", None, 10)
    store.put_artifact("prop-failed", "proposal", {**body, "evidence_hash": failed}, state="pending")
    store.close()
    client = TestClient(create_app(url, metrics=Metrics()))

    # The seeded proposal names a hash with no stored verdict behind it: a loud warning.
    missing = client.get(f"/api/proposals/{seeded.pending_proposal}").json()["verdict"]
    assert missing["found"] is False and "no verdict with evidence hash" in missing["problem"]
    page = client.get(f"/proposals/{seeded.pending_proposal}").text
    assert 'id="verdict-missing"' in page and "do not sign" in page

    shown = client.get("/api/proposals/prop-failed").json()["verdict"]
    assert shown["found"] is True and shown["passed"] is False
    assert shown["reasons"] == ["the attack still drains the pool"]
    assert shown["candidate_runtime_sha256"] == "0x" + "ab" * 32
    page = client.get("/proposals/prop-failed").text
    assert 'id="verdict-state">FAILED' in page and "the attack still drains the pool" in page
    assert "0x" + "ab" * 32 in page
