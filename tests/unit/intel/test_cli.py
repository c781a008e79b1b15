"""``bulwark intel pull|list`` on a file feed, and the ``intel:`` section failing closed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
import typer
from typer.testing import CliRunner

from bulwark import logs
from bulwark.app.intel import load_intel_config
from bulwark.chain import Signer
from bulwark.cli import intel as intel_cli
from bulwark.errors import ConfigError
from bulwark.intel.bundle import build_bundle
from bulwark.intel.feeds import FileFeed
from bulwark.intel.indicators import Indicator, IndicatorKind

PUB = Signer("0x" + "01" * 32)
OTHER = Signer("0x" + "02" * 32)


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    # the commands point structlog at the runner's stderr, which is closed after each invoke
    yield
    structlog.reset_defaults()


def _app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: logs.configure("error"))  # as the root command does: logs to stderr
    intel_cli.register(app)
    return app


def _ind(value: str, *, days_ago: int = 0, ttl_days: int = 30) -> Indicator:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    return Indicator(IndicatorKind.ACCOUNT, value, start, start + timedelta(days=ttl_days))


def test_pull_keeps_what_trusted_publishers_signed_and_list_shows_it(tmp_path: Path) -> None:
    feed = FileFeed(tmp_path / "feed")
    good, stranger, old = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20
    feed.publish(build_bundle([_ind(good)], PUB))
    feed.publish(build_bundle([_ind(stranger)], OTHER))
    feed.publish(build_bundle([_ind(old, days_ago=10, ttl_days=1)], PUB))
    cfg = tmp_path / "bulwark.yaml"
    cfg.write_text(f"intel:\n  publishers: ['{PUB.address}']\n  feeds:\n    peers: {{file: ./feed}}\n")
    db = f"sqlite:///{tmp_path / 'b.db'}"
    runner = CliRunner()
    pulled = runner.invoke(_app(), ["intel", "pull", "-c", str(cfg), "--db", db, "--json"])
    assert pulled.exit_code == 0, pulled.output
    out = json.loads(pulled.output)
    assert out["accepted"] == 1 and out["new"] == 1
    reasons = sorted(r["reason"].split(" ")[0] for r in out["rejected"])
    assert reasons == ["expired", "unknown"]
    listed = runner.invoke(_app(), ["intel", "list", "--db", db, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [i["value"] for i in json.loads(listed.output)] == [good]
    again = runner.invoke(_app(), ["intel", "pull", "-c", str(cfg), "--db", db, "--json"])
    assert json.loads(again.output)["new"] == 0


@pytest.mark.parametrize(
    "section",
    [
        "intel:\n  feeds:\n    x: {file: ./f}\n",  # feeds but nobody trusted
        "intel:\n  publishers: ['0x01']\n",  # not an address
        "intel:\n  publishers: []\n  feeds:\n    x: {file: ./f, taxii: 'http://h/'}\n",
        "intel:\n  consensus: {threshold: 3, peers: ['http://p'], channel_secret: env:S}\n",
        "intel:\n  consensus: {threshold: 1, peers: ['http://p'], channel_secret: 'inline-secret'}\n",
        "intel:\n  publishers: []\n  typo: 1\n",
        "networks: {}\n",  # no section at all
    ],
)
def test_a_broken_intel_section_fails_closed(tmp_path: Path, section: str) -> None:
    cfg = tmp_path / "bulwark.yaml"
    cfg.write_text(section)
    with pytest.raises(ConfigError):
        load_intel_config(cfg)


def test_the_intel_section_is_part_of_bulwark_yaml_and_its_secrets_are_references(tmp_path: Path) -> None:
    from tests.unit.config.test_config import VALID, _write

    from bulwark.config import load_config

    text = VALID + (
        "intel:\n"
        f"  publishers: ['{PUB.address}']\n"
        "  feeds:\n    peers: {file: ./feed}\n"
        "  publisher_key: env:INTEL_KEY\n"
        "  consensus: {threshold: 2, peers: ['http://10.0.0.2:8547'], channel_secret: env:CHANNEL}\n"
    )
    cfg = load_config(_write(tmp_path, text))
    assert cfg.intel is not None and cfg.intel.publishers == (PUB.address,)
    assert cfg.secret("intel.consensus.channel_secret").reference == "env:CHANNEL"
    with pytest.raises(ConfigError):  # unknown keys inside the section are refused there too
        load_config(_write(tmp_path, text + "  trust_everyone: true\n"))


def test_scan_flags_our_copy_of_the_published_vulnerable_function_and_not_the_fixed_one(
    tmp_path: Path,
) -> None:
    from bulwark.app.intel import remember, vulnerable_code
    from bulwark.domain import Address, VulnClass
    from bulwark.intel.subscribe import Intel
    from bulwark.store import Store
    from bulwark.toolchain.solc import Compiler

    here = Path("scenarios/oracle-open-setprice")
    with Compiler() as compiler:  # what the publisher's localisation blamed, as it would publish it
        [vuln] = vulnerable_code(
            compiler, here / "PriceOracle.sol", "PriceOracle", VulnClass.ACCESS_CONTROL, use_slither=False
        )
    now = datetime.now(UTC).replace(microsecond=0)
    ind = Indicator(IndicatorKind.VULNERABLE_CODE, vuln.fingerprint, now, now + timedelta(days=1),
                    VulnClass.ACCESS_CONTROL)  # fmt: skip
    db = f"sqlite:///{tmp_path / 's.db'}"
    store = Store(db)
    remember(store, Intel(((Address(PUB.address), ind),), ()))
    store.close()
    runner = CliRunner()
    hit = runner.invoke(
        _app(),
        ["intel", "scan", "--source", f"oracle={here / 'PriceOracle.sol'}:PriceOracle", "--db", db, "--json"],
    )
    assert hit.exit_code == 3, hit.output
    [row] = json.loads(hit.stdout)
    assert (row["contract"], row["function"], row["localised"]) == ("PriceOracle", "setPrice", True)
    fixed = runner.invoke(
        _app(),
        ["intel", "scan", "--source", f"oracle={here / 'fix/PriceOracle.sol'}:PriceOracle", "--db", db],
    )
    assert fixed.exit_code == 0 and "no match" in fixed.stdout, fixed.output
