"""A proposal is backed by a passing verdict in the store, for the very code it installs (#16.4).

The reproduction: a made-up evidence hash with another contract's code as the implementation was
proposed, signed, executed and passed the post-checks. Each way in is refused here, at propose
time and again at execute time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import create_engine, text
from tests.e2e.govern.conftest import GovEnv, evidence_document
from typer.testing import CliRunner

from bulwark.cli.main import app
from bulwark.domain import Severity
from bulwark.domain.govern import ProposalState
from bulwark.domain.verify import Evidence, Verdict
from bulwark.errors import GovernanceError, TamperedCandidate
from bulwark.execute import execute_upgrade
from bulwark.govern import approve, propose_upgrade
from bulwark.govern.proposal import load

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _claim(ev_hash: str) -> Verdict:
    """A verdict object that says it passed: governance must not take its word for it."""
    return Verdict(True, (), True, True, True, 0, 0.0, Evidence({"pass": True}, ev_hash))


def _propose(g: GovEnv, verdict: Verdict, implementation: bytes | str):  # type: ignore[no-untyped-def]
    p = g.env.protocol
    return g.env.run(
        propose_upgrade(
            g.env.client,
            g.store,
            g.policy,
            verdict,
            component="vault",
            implementation=implementation,
            deployer=p.spare[0].address,
            severity=Severity.CRITICAL,
        )
    )


def test_a_made_up_evidence_hash_is_refused(gov: GovEnv) -> None:
    with pytest.raises(GovernanceError, match=r"no verdict with evidence hash 0x1111.* in the store"):
        _propose(gov, _claim("0x" + "11" * 32), gov.vault_code)


def test_another_contracts_code_is_refused_even_with_a_real_verdict(gov: GovEnv) -> None:
    p = gov.env.protocol
    verdict = gov.verdict()  # the vault candidate, stored and passing
    lending_impl = p.component("lending").implementation  # deployed, but not what was verified
    with pytest.raises(GovernanceError, match=r"is not the candidate the verdict .* verified"):
        _propose(gov, verdict, lending_impl)


def test_a_verdict_that_did_not_pass_is_refused_whatever_the_caller_claims(gov: GovEnv) -> None:
    failed = gov.store.put_evidence(evidence_document(gov.vault_art, passed=False))
    with pytest.raises(GovernanceError, match="did not pass \\(the attack still drains\\)"):
        _propose(gov, _claim(failed), gov.vault_code)


def test_an_already_deployed_verified_implementation_is_accepted(gov: GovEnv) -> None:
    """The address form: the chain's runtime code (UUPS immutables filled in) matches the verdict."""
    env, p = gov.env, gov.env.protocol
    addr = env.run(env.client.deploy((), gov.vault_code, sender=p.spare[0].address))
    up = _propose(gov, gov.verdict(), addr)
    assert up.implementation is not None and up.implementation.lower() == addr.lower()


def test_evidence_altered_in_the_store_after_approval_is_refused_at_execute(gov: GovEnv) -> None:
    env, p = gov.env, gov.env.protocol
    up = _propose(gov, gov.verdict(), gov.vault_code)
    for i in (0, 1):
        env.run(approve(env.client, gov.store, up.id, p.safe_owners[i].private_key))
    engine = create_engine(gov.db_url)
    with engine.begin() as conn:
        doc = evidence_document(gov.lending_art)  # type: ignore[arg-type]
        conn.execute(
            text("UPDATE artifacts SET body = :b WHERE id = :i"),
            {"b": json.dumps(doc), "i": f"evidence:{up.evidence_hash}"},
        )
    engine.dispose()
    with pytest.raises(TamperedCandidate, match="altered after it was stored"):
        env.run(execute_upgrade(env.client, gov.store, up.id, sender=p.spare[0].address, time_travel=True))
    assert load(gov.store, up.id)[1] is ProposalState.FAILED


def test_cli_propose_takes_an_evidence_file_and_refuses_a_bare_unknown_hash(
    gov: GovEnv, tmp_path: Path
) -> None:
    env, p = gov.env, gov.env.protocol
    addr = env.run(env.client.deploy((), gov.vault_code, sender=p.spare[0].address))
    config = tmp_path / "bulwark.yaml"
    owners = [o.address for o in p.safe_owners]
    config.write_text(
        "\n".join(
            [
                "version: 1",
                "networks:",
                f"  local: {{rpc_http: '{env.node.http_url}'}}",
                "protocols:",
                "  demo:",
                "    network: local",
                "    contracts:",
                f"      vault: {{address: '{p.address('vault')}'}}",
                "policies:",
                "  demo:",
                f"    safe: '{p.safe.address}'",
                f"    timelock: '{p.timelock.address}'",
                f"    guardian: '{p.guardian.address}'",
                f"    owners: {json.dumps(owners)}",
                "    threshold: 2",
                "    proxies: [vault]",
                "    actions:",
                "      upgrade: {default: {threshold: 2, delay_s: 60}}",
                "      unpause: {default: {threshold: 2, delay_s: 0}}",
            ]
        )
    )
    common = ["--protocol", "demo", "--component", "vault", "--implementation", addr, "--config", str(config)]
    common += ["--db", gov.db_url, "--json"]
    runner = CliRunner()
    out = runner.invoke(app, ["propose", *common, "--evidence-hash", "0x" + "22" * 32])
    assert out.exit_code != 0 and isinstance(out.exception, GovernanceError), out.output
    assert "no verdict with evidence hash" in out.exception.user_message

    evidence = tmp_path / "evidence.json"
    evidence.write_text(json.dumps(evidence_document(gov.vault_art)))
    out = runner.invoke(app, ["propose", *common, "--evidence", str(evidence)])
    assert out.exit_code == 0, out.output
    (made,) = json.loads(out.output)
    assert gov.store.verdict(made["evidence_hash"]) is not None
