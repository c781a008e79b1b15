"""Issue #16, item 3: SIGKILL ``--protect full`` right after the pause is sent (or once it landed).

The killed run leaves an incident DETECTED with its pause recorded as sent (or CONTAINED). A later run of
the same (deterministic: same attack tx hashes) scenario on the same database must succeed and
leave that incident alone; ``bulwark incidents resume ID`` then carries it on, on the chain it
happened on (the test's anvil, which outlives the killed process), to CLOSED without sending the
pause again and without proposing or executing anything twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bulwark.chain import ChainClient, run
from bulwark.domain import IncidentState
from bulwark.domain.govern import GovAction, ProposalState
from bulwark.govern import proposals
from bulwark.lab.full import FullOptions, run_scenario_full
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.runner import RunOptions
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil, AnvilOptions, dev_accounts
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

SCENARIO = "spot-price-collateral"
ROOT = Path(__file__).resolve().parents[3]
SENTINEL = dev_accounts(10)[4].address  # deploy_protocol: account 4 holds the pause key


def _sentinel_nonce(url: str) -> int:
    async def go() -> int:
        async with ChainClient(url) as client:
            return await client.get_nonce(SENTINEL, "latest")

    return int(run(go()))


@pytest.mark.parametrize("kill_at", ["sent", "contained"])
def test_killed_right_after_the_pause_then_a_new_run_and_a_resume_both_succeed(
    kill_at: str, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'bulwark.db'}"
    with Anvil(AnvilOptions()) as node:
        killed = subprocess.run(
            [sys.executable, "-m", "tests.support.full_worker", "scenario", SCENARIO, db_url,
             node.http_url, node.ws_url, str(tmp_path / "work"), kill_at],
            capture_output=True, text=True, timeout=400, check=False, cwd=ROOT,
        )  # fmt: skip
        assert killed.returncode == -9, killed.stdout + killed.stderr  # really died by SIGKILL
        assert ("pause sent" if kill_at == "sent" else "contained") in killed.stdout
        assert "final" not in killed.stdout
        store = Store(db_url)
        try:
            stuck = [i.id for i in store.incidents() if i.state is not IncidentState.CLOSED]
            assert stuck, "the killed run left no incident"
            # The incident whose pause was sent (the others' actions were covered by it).
            sent = [i for i in stuck if any(a.status in ("sent", "confirmed") for a in store.actions(i))]
            assert len(sent) == 1
            want = IncidentState.DETECTED if kill_at == "sent" else IncidentState.CONTAINED
            assert store.incident(sent[0]).state is want
            incident_id = sent[0]
            before = {i: store.incident(i).state for i in stuck}
        finally:
            store.close()

        # The chain goes on without Bulwark (the killed run had switched mining off).
        async def resume_mining() -> None:
            async with ChainClient(node.http_url) as client:
                await client.mine()
                await client.set_automine(True)

        run(resume_mining())
        pauses_sent = _sentinel_nonce(node.http_url)

        # A later run of the same scenario on the same database succeeds and leaves them alone.
        store = Store(db_url)
        try:
            with Compiler() as compiler:
                out = run_scenario_full(
                    load_corpus().get(SCENARIO),
                    RunOptions(benign_txs=10),
                    store=store,
                    full=FullOptions(workdir=tmp_path / "again", regress=5, benign_after=5, max_candidates=1),
                    compiler=compiler,
                )
            assert out["flow_state"] == "closed", out["flow_reason"]
            assert {i: store.incident(i).state for i in stuck} == before
        finally:
            store.close()

        # `bulwark incidents resume ID` carries the killed run's incident on to CLOSED.
        resumed = subprocess.run(
            [str(ROOT / ".venv/bin/bulwark"), "incidents", "resume", incident_id, "--db", db_url],
            capture_output=True, text=True, timeout=400, check=False, cwd=tmp_path,
            env={**os.environ, "BULWARK_DATABASE_URL": ""},
        )  # fmt: skip
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert f"incident {incident_id}: closed" in resumed.stdout
        # Containment is a step of the resumed flow only when the kill came before it was recorded.
        assert ("contain    done" in resumed.stdout) is (kill_at == "sent"), resumed.stdout
        assert "patch      done" in resumed.stdout

        assert _sentinel_nonce(node.http_url) == pauses_sent  # the pause was not sent again
        store = Store(db_url)
        try:
            assert store.incident(incident_id).state is IncidentState.CLOSED
            # The pause that landed before the kill is the one on record.
            assert any(a.status == "confirmed" for a in store.actions(incident_id))
            # The killed run's other incidents folded into it; nothing else is left open.
            assert {i.state for i in store.incidents()} == {IncidentState.CLOSED}
            upgrades = [p for p in proposals(store, incident_id) if p[0].action is GovAction.UPGRADE]
            assert len(upgrades) == 1 and upgrades[0][1] is ProposalState.EXECUTED
            assert store.verify_audit().ok
        finally:
            store.close()

        # A second resume finds nothing left to do and sends nothing.
        again = subprocess.run(
            [str(ROOT / ".venv/bin/bulwark"), "incidents", "resume", incident_id, "--db", db_url],
            capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert again.returncode == 0 and "already closed" in again.stdout, again.stdout + again.stderr
