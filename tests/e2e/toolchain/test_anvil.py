from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from bulwark.errors import AnvilError
from bulwark.toolchain import anvil as anvil_mod
from bulwark.toolchain.anvil import Anvil, AnvilOptions, dev_accounts

pytestmark = pytest.mark.e2e


def _rpc(url: str, method: str, params: list[object] | None = None) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())["result"]


def _gone(pid: int, within_s: float = 5.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.05)
    return False


def test_starts_on_a_free_port_answers_and_stops(anvil_node: Anvil) -> None:
    assert anvil_node.running
    assert anvil_node.http_url == f"http://127.0.0.1:{anvil_node.port}"
    assert anvil_node.ws_url == f"ws://127.0.0.1:{anvil_node.port}"
    assert _rpc(anvil_node.http_url, "eth_chainId") == hex(31337)
    funded = _rpc(anvil_node.http_url, "eth_accounts")
    assert [a.address.lower() for a in anvil_node.accounts] == [str(a).lower() for a in funded]  # type: ignore[union-attr]


def test_dev_keys_match_the_funded_accounts_and_stay_out_of_repr() -> None:
    from eth_account import Account

    accounts = dev_accounts(3)
    assert accounts[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    for acct in accounts:
        assert Account.from_key(acct.private_key).address == acct.address
        assert acct.private_key[2:] not in repr(acct)


def test_options_reach_anvil_and_stop_is_idempotent() -> None:
    opts = AnvilOptions(automine=False, chain_id=1337, accounts=2, balance_eth=5, code_size_limit=50_000)
    node = Anvil(opts).start()
    try:
        pid = node.pid
        assert _rpc(node.http_url, "eth_chainId") == hex(1337)
        assert len(_rpc(node.http_url, "eth_accounts")) == 2  # type: ignore[arg-type]
        assert _rpc(node.http_url, "eth_getBalance", [node.accounts[1].address, "latest"]) == hex(5 * 10**18)
        assert _rpc(node.http_url, "anvil_getAutomine") is False
    finally:
        node.stop()
    node.stop()
    assert not node.running
    assert _gone(pid)


def test_state_dump_and_load_round_trip(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    target = "0x000000000000000000000000000000000000bEEF"
    with Anvil(AnvilOptions(dump_state=state)) as node:
        _rpc(node.http_url, "anvil_setBalance", [target, hex(12345)])
    assert state.is_file()
    with Anvil(AnvilOptions(load_state=state)) as node:
        assert _rpc(node.http_url, "eth_getBalance", [target, "latest"]) == hex(12345)


def test_port_taken_gives_anvil_error_with_stderr() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(AnvilError) as info:
            Anvil(AnvilOptions(port=sock.getsockname()[1])).start()
    assert "Address already in use" in info.value.user_message


def test_missing_binary_gives_anvil_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "anvil"
    monkeypatch.setattr(anvil_mod, "foundry_bin", lambda tool: missing)
    with pytest.raises(AnvilError) as info:
        Anvil().start()
    assert str(missing) in info.value.user_message
    assert "make setup" in info.value.user_message


def test_anvil_exiting_early_reports_its_error() -> None:
    with pytest.raises(AnvilError) as info:
        Anvil(AnvilOptions(extra_args=("--no-such-flag",))).start()
    assert "--no-such-flag" in str(info.value)


def test_bad_options_fail_before_starting() -> None:
    with pytest.raises(AnvilError, match="fork_url"):
        AnvilOptions(fork_block=5)


def test_fork_url_is_masked_in_errors() -> None:
    # An unreachable fork URL carrying an "API key": anvil fails, the key must not be shown.
    opts = AnvilOptions(fork_url="http://127.0.0.1:9/v3/SECRETKEY123456", startup_timeout_s=20)
    assert "SECRETKEY123456" not in repr(opts)
    with pytest.raises(AnvilError) as info:
        Anvil(opts).start()
    assert "SECRETKEY123456" not in str(info.value)
    assert "SECRETKEY123456" not in info.value.user_message


_CHILD = textwrap.dedent(
    """
    import sys, time
    from bulwark.logs import configure
    from bulwark.toolchain.anvil import Anvil
    configure()
    node = Anvil().start()
    print(node.pid, node._watchdog.pid, flush=True)
    time.sleep(60)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_dead_parent_leaves_no_orphan(sig: signal.Signals) -> None:
    child = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        anvil_pid, watchdog_pid = map(int, child.stdout.readline().split())
        assert not _gone(anvil_pid, within_s=0.2)
        os.kill(child.pid, sig)
        child.wait(60)  # a loaded machine can take seconds to run the child's exit handlers
        assert _gone(anvil_pid), f"anvil {anvil_pid} outlived its parent killed by {sig.name}"
        assert _gone(watchdog_pid)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
