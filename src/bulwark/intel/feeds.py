"""Where bundles travel: files (one STIX bundle per JSON file) and TAXII 2.1 collections.

The TAXII client speaks the 2.1 HTTP API directly (``application/taxii+json;version=2.1``):
``POST {api_root}/collections/{id}/objects/`` with an envelope to publish, ``GET`` the same path
(following ``more``/``next``) to pull. Basic auth when a user is given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bulwark.intel.bundle import IntelError

__all__ = ["FileFeed", "TaxiiFeed"]

TAXII = "application/taxii+json;version=2.1"


@dataclass(frozen=True, slots=True)
class FileFeed:
    """A directory of ``*.json`` STIX bundles (or a single bundle file)."""

    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    def publish(self, bundle: Mapping[str, Any]) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        out = self.path / f"{bundle['id']}.json"
        out.write_text(json.dumps(bundle, indent=2, sort_keys=True))
        return out

    async def pull(self) -> list[dict[str, Any]]:
        files = [self.path] if self.path.is_file() else sorted(self.path.glob("*.json"))
        objects: list[dict[str, Any]] = []
        for f in files:
            try:
                data = json.loads(f.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise IntelError(f"cannot read bundle {f}: {exc}") from None
            if not isinstance(data, dict) or data.get("type") != "bundle":
                raise IntelError(f"{f} is not a STIX bundle")
            objects += [dict(o) for o in data.get("objects") or []]
        return objects


@dataclass(frozen=True, slots=True)
class TaxiiFeed:
    """One TAXII 2.1 collection: ``url`` is the API root, ``collection`` the collection id."""

    url: str
    collection: str
    user: str | None = None
    password: str | None = None
    timeout_s: float = 10.0

    @property
    def name(self) -> str:
        return f"{self.url.rstrip('/')}/collections/{self.collection}"

    def _auth(self) -> httpx.BasicAuth | None:
        return httpx.BasicAuth(self.user, self.password or "") if self.user else None

    def _objects_url(self) -> str:
        return f"{self.url.rstrip('/')}/collections/{self.collection}/objects/"

    async def publish(self, bundle: Mapping[str, Any]) -> dict[str, Any]:
        envelope = {"objects": list(bundle.get("objects") or [])}
        async with httpx.AsyncClient(auth=self._auth(), timeout=self.timeout_s) as http:
            resp = await http.post(
                self._objects_url(),
                content=json.dumps(envelope),
                headers={"Content-Type": TAXII, "Accept": TAXII},
            )
        if resp.status_code not in (200, 201, 202):
            raise IntelError(f"TAXII publish to {self.name} failed: {resp.status_code} {resp.text[:200]}")
        status: dict[str, Any] = resp.json()
        if int(status.get("failure_count", 0)) and not int(status.get("success_count", 0)):
            raise IntelError(f"TAXII server stored none of the objects: {status.get('failures')}")
        return status

    async def pull(self, *, added_after: str | None = None) -> list[dict[str, Any]]:
        objects: list[dict[str, Any]] = []
        params: dict[str, str] = {"added_after": added_after} if added_after else {}
        async with httpx.AsyncClient(auth=self._auth(), timeout=self.timeout_s) as http:
            for _ in range(1000):
                resp = await http.get(self._objects_url(), params=params, headers={"Accept": TAXII})
                if resp.status_code != 200:
                    raise IntelError(
                        f"TAXII pull from {self.name} failed: {resp.status_code} {resp.text[:200]}"
                    )
                page = resp.json()
                objects += [dict(o) for o in page.get("objects") or []]
                if not page.get("more") or not page.get("next"):
                    break
                params = {**params, "next": str(page["next"])}
        return objects


Feed = FileFeed | TaxiiFeed
