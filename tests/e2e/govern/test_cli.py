"""`bulwark approve | reject | proposals` against the demo chain and a SQLite store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from eth_account import Account
from tests.e2e.govern.conftest import GovEnv
from typer.testing import CliRunner

from bulwark.cli.main import app
from bulwark.domain import Severity
from bulwark.govern import propose_upgrade, status

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """The CLI binds structlog to the runner's stderr, which closes after each invoke."""
    yield
    structlog.reset_defaults()


def test_approve_with_env_key_and_keystore_then_list(
    gov: GovEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, p = gov.env, gov.env.protocol
    up = env.run(
        propose_upgrade(
            env.client,
            gov.store,
            gov.policy,
            gov.verdict(),
            component="vault",
            implementation=gov.vault_code,
            deployer=p.spare[0].address,
            severity=Severity.CRITICAL,
        )
    )
    runner = CliRunner()
    common = ["--rpc", env.node.http_url, "--db", gov.db_url, "--json"]
    monkeypatch.setenv("SIGNER_KEY", p.safe_owners[0].private_key)
    out = runner.invoke(app, ["approve", up.id, "--key", "env:SIGNER_KEY", *common])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["signed"] == [p.safe_owners[0].address]

    keystore = tmp_path / "owner2.json"
    keystore.write_text(json.dumps(Account.encrypt(p.safe_owners[1].private_key, "pw")))
    monkeypatch.setenv("KS_PW", "pw")
    out = runner.invoke(
        app, ["approve", up.id, "--key", f"file:{keystore}", "--password", "env:KS_PW", *common]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["met"] is True

    monkeypatch.setenv("SENTINEL_KEY", p.sentinel.private_key)
    out = runner.invoke(app, ["reject", up.id, "--key", "env:SENTINEL_KEY", *common])
    assert out.exit_code != 0  # the sentinel is no Safe owner: it may not even veto
    assert status(gov.store, up.id).rejected_by == ()

    out = runner.invoke(app, ["proposals", "--db", gov.db_url, "--json"])
    assert out.exit_code == 0, out.output
    (row,) = json.loads(out.output)
    assert (
        row["id"] == up.id
        and row["status"]["state"] == "approved"
        and row["evidence_hash"] == up.evidence_hash
    )
