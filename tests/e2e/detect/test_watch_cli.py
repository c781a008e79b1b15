"""``bulwark watch`` end to end in replay mode (``--until-block``) against a real anvil."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bulwark.chain import ChainClient, run
from bulwark.cli.main import main
from bulwark.store import Store, default_url
from bulwark.toolchain.anvil import Anvil, AnvilOptions

pytestmark = pytest.mark.e2e

CONFIG = """
networks:
  local:
    rpc_http: "env:BULWARK_E2E_RPC"
    confirmations: 0
    poll_interval_s: 0.05
    mempool: "off"
    mined: {mined}
protocols:
  p:
    network: local
    contracts: {{box: {{address: "{box}"}}}}
monitors:
  m:
    protocol: p
    rules:
      - {{name: big-value, when: tx, expr: "tx.value >= 5", severity: high}}
"""


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    # main() points structlog at the captured stderr, which pytest closes after the test.
    yield
    structlog.reset_defaults()


@pytest.mark.parametrize(
    ("with_db", "mined"),
    [(False, "all"), (True, "all"), (False, "protected")],
    ids=["state-dir", "database", "protected-only"],
)
def test_watch_prints_findings_of_mined_blocks_as_json_lines(
    with_db: bool,
    mined: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    extra = ["--db", db_url] if with_db else []
    with Anvil(AnvilOptions()) as node:
        a = node.accounts

        async def send(value: int) -> str:
            async with ChainClient(node.http_url) as c:
                await c.mine(1)
                return str(
                    await c.request(
                        "eth_sendTransaction",
                        [{"from": a[0].address, "to": a[1].address, "value": hex(value)}],
                    )
                )

        cfg = tmp_path / "bulwark.yaml"
        # "all" judges every mined transaction; "protected" only those touching the protocol, so
        # there the receiver of the transfers is the protected address.
        box = a[2] if mined == "all" else a[1]
        cfg.write_text(CONFIG.format(box=box.address, mined=mined))
        monkeypatch.setenv("BULWARK_E2E_RPC", node.http_url)
        # First run records the checkpoint at the head; later blocks are owed to the next run.
        with pytest.raises(SystemExit) as info:
            main(
                [
                    "watch",
                    "-c",
                    str(cfg),
                    "--json",
                    "--state-dir",
                    str(tmp_path / "state"),
                    "--until-block",
                    "0",
                    *extra,
                ]
            )
        assert info.value.code == 0
        small, big = run(send(1)), run(send(7))
        with pytest.raises(SystemExit) as info:
            main(
                [
                    "watch",
                    "-c",
                    str(cfg),
                    "--json",
                    "--state-dir",
                    str(tmp_path / "state"),
                    "--until-block",
                    "4",
                    *extra,
                ]
            )
        assert info.value.code == 0
        # (anvil's start-up log line, emitted before the CLI configures logging, is not ours)
        out = capsys.readouterr().out
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert [(x["type"], x["finding"]["tx_hash"], x["finding"]["severity"]) for x in lines] == [
            ("finding", big, "high")
        ]
        assert small != big
        assert node.http_url not in json.dumps(lines)
        # The finding is in the store, and the checkpoint where it was asked to be.
        state = tmp_path / "state"
        store = Store(db_url if with_db else default_url(state))
        try:
            assert [(f["tx_hash"], f["withdrawn"]) for f in store.findings()] == [(big, False)]
            cp = store.load("local-heads")
        finally:
            store.close()
        json_cp = state / "local-heads.checkpoint.json"
        if with_db:
            assert cp is not None and cp.block_number == 4 and cp.data["recent"]
            assert not json_cp.exists()
        else:
            assert cp is None and json.loads(json_cp.read_text())["block_number"] == 4
