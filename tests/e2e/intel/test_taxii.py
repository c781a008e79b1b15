"""Publish and pull over a real TAXII 2.1 server (medallion, memory backend, own process)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bulwark.chain import Signer
from bulwark.domain import VulnClass
from bulwark.intel.bundle import build_bundle
from bulwark.intel.feeds import TaxiiFeed
from bulwark.intel.indicators import AttackEvidence, derive_indicators
from bulwark.intel.subscribe import pull

pytestmark = pytest.mark.e2e
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
PUB, ROGUE = Signer("0x" + "0a" * 32), Signer("0x" + "0b" * 32)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def taxii(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    d = tmp_path_factory.mktemp("taxii")
    media = ["application/stix+json;version=2.1"]
    data = {
        "/discovery": {"title": "bulwark test", "default": "/intel/", "api_roots": ["/intel/"]},
        "intel": {
            "information": {"title": "intel", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 9765625},
            "status": [],
            "collections": [{"id": COLLECTION, "title": "indicators", "can_read": True, "can_write": True,
                             "media_types": media, "objects": [], "manifest": []}],
        },
    }  # fmt: skip
    (d / "data.json").write_text(json.dumps(data))
    (d / "config.json").write_text(json.dumps({
        "backend": {"module_class": "MemoryBackend", "module": "medallion.backends.memory_backend",
                    "filename": str(d / "data.json")},
        "users": {"pub": "secret"},
        "taxii": {"max_page_size": 100},
    }))  # fmt: skip
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from medallion.scripts.run import main; main()", "--port", str(port),
         str(d / "config.json")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(url + "/taxii2/", auth=("pub", "secret"), timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url + "/intel/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_indicators_round_trip_through_taxii_and_a_rogue_publisher_is_refused(taxii: str) -> None:
    feed = TaxiiFeed(taxii, COLLECTION, user="pub", password="secret")
    now = datetime.now(UTC)
    ev = AttackEvidence(31337, ("0x" + "11" * 20,), {}, ("0x12345678", "0x9abcdef0"), VulnClass.REENTRANCY)
    good = build_bundle(derive_indicators(ev, now=now), PUB)
    rogue_ev = AttackEvidence(31337, ("0x" + "99" * 20,), {}, (), None)
    rogue = build_bundle(derive_indicators(rogue_ev, now=now), ROGUE)
    status = asyncio.run(feed.publish(good))
    assert status["success_count"] == len(good["objects"])
    asyncio.run(feed.publish(rogue))
    intel = asyncio.run(pull([feed], [PUB.address]))
    assert {a.lower() for a in intel.addresses} == {"0x" + "11" * 20}
    assert intel.call_patterns == (("0x12345678", "0x9abcdef0"),)
    assert any("unknown publisher" in r.reason for r in intel.rejections)
    with pytest.raises(Exception, match=r"401|failed"):
        asyncio.run(TaxiiFeed(taxii, COLLECTION, user="pub", password="wrong").pull())
