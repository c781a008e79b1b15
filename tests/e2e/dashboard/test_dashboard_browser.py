"""The dashboard in a real browser: Debian's chromium, headless, driven by Playwright.

The store holds a whole incident run through the real IncidentFlow (stand-in steps with real-shaped
records). One test serves it with ``bulwark serve`` as a subprocess and checks what a user sees; the
other serves it in-process with a stand-in approval path and approves a proposal from the page
through an injected EIP-1193 wallet whose signatures are made by eth-account.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from eth_account import Account
from tests.support import incident_seed

from bulwark.api import SignedDecision, create_app
from bulwark.metrics import Metrics
from bulwark.store import Store

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("BULWARK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(base: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"bulwark serve exited with {proc.returncode}:\n{out}")
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the dashboard did not answer on {base} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} not found: the dashboard test needs Debian's chromium package "
            "(`apt-get install -y chromium`; .ci/run installs it)",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, incident_seed.Seeded]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dash') / 'bulwark.db'}"
    store = Store(url)
    seeded = incident_seed.seed(store)
    store.close()
    return url, seeded


@pytest.fixture(scope="module")
def served(seeded: tuple[str, incident_seed.Seeded]) -> Iterator[str]:
    """``bulwark serve`` as a user starts it, on a free loopback port."""
    port = _free_port()
    cli = Path(sys.executable).with_name("bulwark")
    proc = subprocess.Popen(
        [str(cli), "serve", "--db", seeded[0], "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, proc)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_incident_timeline_and_diff_render_in_chromium(
    chromium: str, served: str, seeded: tuple[str, incident_seed.Seeded], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    iid = seeded[1].incident_id
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(served + "/incidents")
            row = page.locator(f'tr[data-incident="{iid}"]')
            assert row.count() == 1
            assert "closed" in row.inner_text()
            row.locator("a").click()
            page.wait_for_url(f"**/incidents/{iid}")
            assert page.locator("#incident-summary").get_attribute("data-state") == "closed"
            # The timeline shows every transition of the flow, in order.
            events = page.locator("#timeline tbody tr").all_inner_texts()
            transitions = [e for e in events if "incident.transition" in e]
            assert len(transitions) == 7
            assert "detected → contained" in transitions[0] and "resumed → closed" in transitions[-1]
            # The diff renders as lines of code, the escaped "<flash-loan>" shown as text.
            diff = page.locator("#diff-patch")
            assert diff.is_visible()
            assert diff.inner_text().strip("\n") == incident_seed.DIFF.strip("\n")
            assert page.locator("#diff-patch span.add").count() == 2
            assert page.locator("#diff-patch span.del").count() == 1
            assert page.locator("#diff-patch flash-loan").count() == 0
            added = page.locator("#diff-patch span.add").first
            assert added.evaluate("e => getComputedStyle(e).color") == "rgb(63, 185, 80)"  # styles loaded
            assert page.locator("#evidence-hash").inner_text() == incident_seed.EVIDENCE_HASH
            shot = tmp_path / "incident.png"
            page.screenshot(path=str(shot), full_page=True)
            page.goto(served + "/audit")
            assert "audit log intact" in page.locator("#audit-status").inner_text()
        finally:
            browser.close()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000, "the screenshot is suspiciously small (blank page?)"
    assert errors == [], errors


class _Actions:
    def __init__(self, url: str) -> None:
        self.store = Store(url)
        self.calls: list[SignedDecision] = []

    async def approve(self, proposal_id: str, signature: SignedDecision) -> None:
        self.calls.append(signature)
        self.store.add_signature(proposal_id, signature.signer, "approve", "0x" + signature.signature.hex())

    async def reject(self, proposal_id: str, signature: SignedDecision) -> None:
        raise AssertionError("not in this test")


def test_a_signer_approves_from_the_page_with_a_browser_wallet(chromium: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url = f"sqlite:///{tmp_path / 'bulwark.db'}"
    store = Store(url)
    seeded = incident_seed.seed(store)
    store.close()
    actions = _Actions(url)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(url, actions, metrics=Metrics()), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    key = incident_seed.SIGNER_KEYS[0]
    signer = Account.from_key(key).address
    asked: list[dict] = []

    def wallet_sign(address: str, typed_json: str) -> str:
        """The wallet: signs exactly the EIP-712 document the page hands it."""
        assert address == signer
        doc = json.loads(typed_json)
        asked.append(doc)
        return Account.sign_typed_data(key, full_message=doc).signature.to_0x_hex()

    try:
        _wait_up(base)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page()
                page.expose_function("walletSign", wallet_sign)
                page.add_init_script(
                    f"""window.ethereum = {{ request: async ({{method, params}}) => {{
                        if (method === "eth_requestAccounts") return ["{signer}"];
                        if (method === "eth_signTypedData_v4")
                            return await window.walletSign(params[0], params[1]);
                        throw new Error("unexpected " + method);
                    }} }};"""
                )
                page.goto(f"{base}/proposals/{seeded.pending_proposal}")
                assert page.locator("#sig-count").inner_text() == "0/2"
                page.locator("#approve").click()
                result = page.locator("#decision-result")
                result.filter(has_text="Approved").wait_for(timeout=15_000)
                assert signer in result.inner_text()
                assert page.locator("#sig-count").inner_text() == "1/2"
                page.reload()
                assert signer in page.locator("#signers").inner_text()
                assert page.locator("#sig-count").inner_text() == "1/2"
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert [d["primaryType"] for d in asked] == ["SafeTx", "SafeTx"]
    [decision] = actions.calls
    assert decision.signer == signer and decision.decision == "approve" and len(decision.signature) == 130
