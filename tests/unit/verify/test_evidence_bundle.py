"""The exported evidence bundle and ``bulwark evidence check`` on a real bundle from the engine.

``tests/fixtures/verify/evidence_bundle.json`` is what ``bulwark verify --evidence-out`` wrote for
the vault-mint-pricing reference fix (regenerate: ``python -m tests.fixtures.verify.make_evidence_bundle``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bulwark.cli.main import main
from bulwark.domain.verify import Evidence
from bulwark.errors import UsageError
from bulwark.store import canonical_json
from bulwark.verify.bundle import (
    BUNDLE_FORMAT,
    EvidenceMismatch,
    check_bundle,
    evidence_bundle,
    field_digests,
    unwrap_bundle,
)
from bulwark.verify.evidence import make_evidence, sha256_hex, verify_evidence

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "verify" / "evidence_bundle.json"
GOLDEN_HASH = "0xf8b42c557dedca4c8f46695e88727f4dd6da52e4d54355a4c83cddf97ad1d2bc"
FIELDS = sorted(json.loads(GOLDEN.read_text())["document"])


@pytest.fixture
def bundle() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text())  # type: ignore[no-any-return]


def _other(value: Any) -> Any:
    """A different JSON value of a plausible kind (what someone editing the file would write)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "0"
    if isinstance(value, list):
        return [*value, "extra"]
    if isinstance(value, dict):
        return {**value, "extra": 1}
    return {"altered": True}


def test_the_engine_bundle_checks_out_and_its_hash_is_the_evidence_hash(bundle: dict[str, Any]) -> None:
    assert set(FIELDS) >= {"pass", "candidate", "attack", "attack_txs", "regression", "chain", "live"}
    result = check_bundle(bundle)
    assert result.ok and result.passed is True, result.problems
    # The same inputs give the same hash on any machine: the stored document recomputes to the
    # hash recorded when it was produced, through the one evidence hash function.
    assert result.evidence_hash == bundle["evidence_hash"] == GOLDEN_HASH
    assert verify_evidence(Evidence(bundle["document"], GOLDEN_HASH))
    assert make_evidence(bundle["document"]).hash == GOLDEN_HASH
    assert evidence_bundle(Evidence(bundle["document"], GOLDEN_HASH)) == bundle


def test_file_layout_and_key_order_do_not_change_the_hash(bundle: dict[str, Any]) -> None:
    def reverse(v: Any) -> Any:
        return {k: reverse(v[k]) for k in reversed(list(v))} if isinstance(v, dict) else v

    reread = json.loads(json.dumps(reverse(bundle), indent=None))
    assert check_bundle(reread).ok and check_bundle(reread).evidence_hash == GOLDEN_HASH


@pytest.mark.parametrize("name", FIELDS)
def test_altering_any_document_field_fails_naming_it(bundle: dict[str, Any], name: str) -> None:
    bundle["document"][name] = _other(bundle["document"][name])
    result = check_bundle(bundle)
    assert not result.ok
    assert result.fields == (f"document.{name}",), result.problems


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["candidate"]["sources"].update({"x.sol": {"sha256": "0x00"}}), "document.candidate"),
        (lambda d: d["regression"].update(replayed=d["regression"]["replayed"] + 1), "document.regression"),
        (lambda d: d["attack_txs"].append("0x" + "11" * 32), "document.attack_txs"),
        (lambda d: d["chain"].update(chain_id=1), "document.chain"),
        (lambda d: d.pop("reasons"), "document.reasons"),
        (lambda d: d.update(extra=1), "document.extra"),
    ],
    ids=["source-added", "replayed-count", "attack-tx-added", "chain-id", "field-removed", "field-added"],
)
def test_nested_edits_removals_and_additions_name_the_field(
    bundle: dict[str, Any], edit: Any, field: str
) -> None:
    edit(bundle["document"])
    assert check_bundle(bundle).fields == (field,)


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("format", "bulwark.evidence.bundle/0", "format"),
        ("evidence_hash", "0x" + "ab" * 32, "evidence_hash"),
        ("evidence_hash", "not-a-hash", "evidence_hash"),
        ("document", [], "document"),
        ("digests", {"pass": 1}, "digests"),
        ("extra", 1, "extra"),
    ],
)
def test_altering_a_bundle_field_fails_naming_it(
    bundle: dict[str, Any], name: str, value: Any, field: str
) -> None:
    bundle[name] = value
    result = check_bundle(bundle)
    assert field in result.fields and not result.ok, result.problems


def test_a_bare_document_is_told_to_export_its_bundle(bundle: dict[str, Any]) -> None:
    (problem,) = check_bundle(bundle["document"]).problems
    assert problem[0] == "format" and "bulwark evidence export" in problem[1]


def test_a_missing_bundle_field_is_named(bundle: dict[str, Any]) -> None:
    del bundle["digests"]
    assert check_bundle(bundle).fields == ("digests",)


@pytest.mark.parametrize("name", FIELDS)
def test_altering_only_a_digest_names_the_digest(bundle: dict[str, Any], name: str) -> None:
    bundle["digests"][name] = "0x" + "00" * 32
    assert check_bundle(bundle).fields == (f"digests.{name}",)


@pytest.mark.parametrize("name", FIELDS)
def test_a_field_altered_with_its_digest_still_fails(bundle: dict[str, Any], name: str) -> None:
    bundle["document"][name] = _other(bundle["document"][name])
    bundle["digests"] = field_digests(bundle["document"])
    result = check_bundle(bundle)
    # the document's format is checked by the schema; any other field only by the evidence hash
    assert result.fields == ("document.format" if name == "format" else "evidence_hash",)
    assert result.evidence_hash != GOLDEN_HASH


def test_a_bundle_rewritten_throughout_is_caught_by_the_proposals_hash(bundle: dict[str, Any]) -> None:
    forged = copy.deepcopy(bundle)
    forged["document"]["pass"] = True
    forged["document"]["reasons"] = []
    forged["document"]["attack_txs"] = []
    forged = evidence_bundle(make_evidence({k: v for k, v in forged["document"].items() if k != "format"}))
    assert check_bundle(forged).ok  # self-consistent: only an outside anchor can tell
    result = check_bundle(forged, expected=GOLDEN_HASH.upper().replace("0X", "0x"))
    assert result.fields == ("evidence_hash",)
    assert check_bundle(bundle, expected=GOLDEN_HASH).ok


def test_digests_are_sha256_of_each_fields_canonical_json(bundle: dict[str, Any]) -> None:
    doc = bundle["document"]
    assert bundle["digests"] == {k: sha256_hex(canonical_json(v)) for k, v in doc.items()}
    assert bundle["format"] == BUNDLE_FORMAT


def test_evidence_bundle_refuses_evidence_whose_hash_does_not_recompute(bundle: dict[str, Any]) -> None:
    with pytest.raises(EvidenceMismatch, match="hashes to"):
        evidence_bundle(Evidence(bundle["document"], "0x" + "00" * 32))


def test_unwrap_returns_the_document_or_names_the_field(bundle: dict[str, Any]) -> None:
    assert unwrap_bundle(bundle) == bundle["document"]
    bundle["document"]["pass"] = False
    with pytest.raises(EvidenceMismatch, match=r"document\.pass was altered"):
        unwrap_bundle(bundle, "b.json")


def test_propose_evidence_file_takes_a_bundle_and_refuses_an_altered_one(
    bundle: dict[str, Any], tmp_path: Path
) -> None:
    from bulwark.cli.govern import _evidence_file

    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(bundle))
    assert _evidence_file(path) == bundle["document"]
    bundle["document"]["candidate"]["runtime_code_sha256"] = "0x" + "00" * 32
    path.write_text(json.dumps(bundle))
    with pytest.raises(EvidenceMismatch, match=r"document\.candidate"):
        _evidence_file(path)
    path.write_text(json.dumps(bundle["document"]))  # a bare document is still taken (re-hashed on store)
    assert _evidence_file(path) == bundle["document"]


# -- the command ---------------------------------------------------------------------------------


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["evidence", "check", *args])
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_cli_passes_on_the_exported_bundle(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _cli([str(GOLDEN)], capsys)
    assert (rc, err) == (0, "")
    assert out == f"OK  evidence {GOLDEN_HASH}  (recorded verdict: PASS)\n"
    rc, out, _ = _cli([str(GOLDEN), "--json", "--expect", GOLDEN_HASH], capsys)
    assert rc == 0 and json.loads(out)["ok"] is True


def test_cli_fails_with_one_line_naming_the_field(
    bundle: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle["document"]["attack"]["blocked"] = False
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    rc, out, err = _cli([str(path)], capsys)
    assert rc == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(
        f"error: {path} does not check out: document.attack was altered"
    )
    rc, out, _ = _cli([str(path), "--json"], capsys)
    assert rc == 1 and json.loads(out)["altered"] == ["document.attack"]


def test_cli_expect_mismatch_unreadable_and_rpc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _cli([str(GOLDEN), "--expect", "0x" + "00" * 32], capsys)
    assert rc == 1 and "evidence_hash is 0xf8b4" in err and err.count("\n") == 1
    rc, _, err = _cli([str(GOLDEN), "--expect", "0x12"], capsys)
    assert rc == UsageError.exit_code and "--expect must be" in err
    rc, _, err = _cli([str(tmp_path / "missing.json")], capsys)
    assert rc == UsageError.exit_code and "cannot read the evidence bundle" in err
    (tmp_path / "garbage.json").write_text("{not json")
    rc, _, err = _cli([str(tmp_path / "garbage.json")], capsys)
    assert rc == 1 and "is not JSON" in err


def test_the_store_records_the_bundle_under_the_same_evidence_hash(
    bundle: dict[str, Any], tmp_path: Path
) -> None:
    """What `propose --evidence BUNDLE` stores is named by the bundle's hash (the timelock salt)."""
    from bulwark.store import Store

    store = Store(f"sqlite:///{tmp_path / 'bulwark.db'}")
    try:
        assert store.put_evidence(unwrap_bundle(bundle)) == GOLDEN_HASH
        recorded = store.verdict(GOLDEN_HASH)
        assert recorded is not None and recorded.passed
    finally:
        store.close()


def _rebundled(document: dict[str, Any]) -> dict[str, Any]:
    """A self-consistent bundle for ``document`` (what a forger would write)."""
    return evidence_bundle(make_evidence({k: v for k, v in document.items() if k != "format"}))


def test_rerun_refuses_before_touching_the_chain(bundle: dict[str, Any]) -> None:
    from bulwark.fork.session import VerifyError
    from bulwark.verify.rerun import rerun_bundle

    unreachable = "http://127.0.0.1:9"
    doc = copy.deepcopy(bundle["document"])
    del doc["replay"]
    with pytest.raises(VerifyError, match="records no replay inputs"):
        rerun_bundle(_rebundled(doc), unreachable)
    doc = copy.deepcopy(bundle["document"])
    doc["invariants"]["declared"] = [{"name": "x"}]
    with pytest.raises(VerifyError, match="declared invariants is not supported yet"):
        rerun_bundle(_rebundled(doc), unreachable)
    for evil in ("../../escape.sol", "/tmp/../../escape.sol", "a/../../escape.sol"):
        doc = copy.deepcopy(bundle["document"])
        doc["candidate"]["sources"][evil] = {"sha256": sha256_hex("x"), "content": "x"}
        with pytest.raises(EvidenceMismatch, match="leaves the source tree"):
            rerun_bundle(_rebundled(doc), unreachable)
    doc = copy.deepcopy(bundle["document"])
    unit = next(u for u, e in doc["candidate"]["sources"].items() if "content" not in e)
    doc["candidate"]["sources"][unit]["sha256"] = "0x" + "00" * 32
    with pytest.raises(VerifyError, match=r"is not the .* the bundle was verified with"):
        rerun_bundle(_rebundled(doc), unreachable)
    with pytest.raises(EvidenceMismatch, match=r"document\.pass"):
        rerun_bundle({**bundle, "document": {**bundle["document"], "pass": False}}, unreachable)


def test_export_writes_the_bundle_a_stored_proposal_cites(
    bundle: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from tests.unit.govern.test_approvals import _proposal

    from bulwark.domain.govern import Hash32, ProposalState
    from bulwark.store import Store

    db = f"sqlite:///{tmp_path / 'bulwark.db'}"
    store = Store(db)
    try:
        store.put_evidence(bundle["document"])
        proposal = replace(_proposal(), id="prop-export", evidence_hash=Hash32(GOLDEN_HASH))
        store.put_artifact(proposal.id, "proposal", proposal.to_json(), state=ProposalState.PENDING.value)
    finally:
        store.close()
    for which in ("prop-export", GOLDEN_HASH):
        out = tmp_path / f"{which}.json"
        with pytest.raises(SystemExit) as exc:
            main(["evidence", "export", which, "--out", str(out), "--db", db])
        assert exc.value.code == 0, capsys.readouterr().err
        assert json.loads(out.read_text()) == bundle
        assert _cli([str(out), "--expect", GOLDEN_HASH], capsys)[0] == 0
    rc, _, err = _cli_args(
        ["evidence", "export", "0x" + "00" * 32, "--out", str(tmp_path / "x"), "--db", db], capsys
    )
    assert rc == 1 and err.startswith("error: no evidence 0x0000") and err.count("\n") == 1


def _cli_args(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_sources_are_written_inside_the_scratch_root(tmp_path: Path) -> None:
    from bulwark.verify.rerun import _write_sources

    section = {
        "contract": "/work/incident-1/cand-0/Vault.sol:Vault",
        "sources": {
            "/work/incident-1/cand-0/Vault.sol": {"sha256": sha256_hex("v"), "content": "v"},
            "contracts/Lib.sol": {"sha256": sha256_hex("l"), "content": "l"},
        },
    }
    main_file, name = _write_sources(tmp_path, section, "candidate")
    assert (main_file, name) == (tmp_path / "_abs/work/incident-1/cand-0/Vault.sol", "Vault")
    assert main_file.read_text() == "v" and (tmp_path / "contracts/Lib.sol").read_text() == "l"
    section["sources"]["contracts/Lib.sol"]["content"] = "tampered"
    with pytest.raises(EvidenceMismatch, match="does not match its sha256"):
        _write_sources(tmp_path, section, "candidate")
