"""The dashboard: server-rendered pages and a JSON API over the store, ``/metrics`` for Prometheus.

Reads come from the store; the only writes (approve, reject) go through the injected
:class:`DashboardActions`. Pages carry a strict Content-Security-Policy: no inline script, nothing
from another origin (the machine may be offline, and a dashboard that loads a CDN script is one
compromise away from signing for an attacker).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bulwark.api import read
from bulwark.api.actions import DashboardActions
from bulwark.api.eip712 import Decision, check, signing_requests
from bulwark.api.metrics import CONTENT_TYPE, exposition
from bulwark.errors import BulwarkError, GovernanceError, SignatureRejected
from bulwark.logs import get_logger
from bulwark.metrics import Metrics, default
from bulwark.store import Store

log = get_logger(__name__)

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_STATIC = Path(__file__).with_name("static")


class DecisionBody(BaseModel):
    signer: str = Field(max_length=64)
    signatures: list[str] = Field(min_length=1, max_length=8)
    reason: str = Field(default="", max_length=500)


def _short(value: object, n: int = 10) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 2 * n + 1 else f"{text[:n]}…{text[-6:]}"


def _when(value: object) -> str:
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bulwark.api", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["short"] = _short
    env.filters["when"] = _when
    env.globals["diff_lines"] = read.diff_lines
    return env


def create_app(
    store_url: str,
    actions: DashboardActions | None = None,
    *,
    metrics: Metrics | None = None,
    audit_key: str | None = None,
) -> FastAPI:
    """The dashboard over the store at ``store_url``; approvals go to ``actions`` (None: read-only).
    ``audit_key`` (resolved) lets the audit page check the log's MACs, not only its hash chain."""
    store = Store(store_url, audit_key=audit_key)
    registry = metrics if metrics is not None else default()
    env = _environment()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    app = FastAPI(
        title="Bulwark", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json", lifespan=lifespan
    )
    app.state.store = store
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(read_only=actions is None, **context)
        return HTMLResponse(html, status_code=status)

    def not_found(what: str) -> HTMLResponse:
        return page("not_found.html", 404, title="Not found", what=what)

    # -- pages ------------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def overview() -> HTMLResponse:
        return page(
            "overview.html",
            title="Overview",
            protocols=read.protocols(store),
            incidents=read.incidents(store)[:10],
            findings=read.findings(store, limit=10),
            proposals=[p for p in read.proposals(store) if p["open"]],
            verification=read.verification(store),
            refresh=True,
        )

    @app.get("/incidents", response_class=HTMLResponse)
    def incidents_page() -> HTMLResponse:
        return page("incidents.html", title="Incidents", incidents=read.incidents(store), refresh=True)

    @app.get("/incidents/{incident_id}", response_class=HTMLResponse)
    def incident_page(incident_id: str) -> HTMLResponse:
        try:
            detail = read.incident_detail(store, incident_id)
        except read.NotFound:
            return not_found(f"incident {incident_id}")
        return page("incident.html", title=f"Incident {incident_id}", **detail)

    @app.get("/findings", response_class=HTMLResponse)
    def findings_page() -> HTMLResponse:
        return page("findings.html", title="Findings", findings=read.findings(store), refresh=True)

    @app.get("/proposals", response_class=HTMLResponse)
    def proposals_page() -> HTMLResponse:
        return page("proposals.html", title="Proposals", proposals=read.proposals(store))

    @app.get("/proposals/{proposal_id}", response_class=HTMLResponse)
    def proposal_page(proposal_id: str) -> HTMLResponse:
        try:
            proposal = read.proposal(store, proposal_id)
        except read.NotFound:
            return not_found(f"proposal {proposal_id}")
        return page("proposal.html", title=f"Proposal {proposal_id}", proposal=proposal)

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(incident: str | None = None) -> HTMLResponse:
        return page(
            "audit.html",
            title="Audit log",
            entries=read.audit(store, incident),
            verification=read.verification(store),
            incident=incident,
        )

    # -- JSON API ---------------------------------------------------------------------------------

    @app.get("/api/protocols")
    def api_protocols() -> list[dict[str, Any]]:
        return read.protocols(store)

    @app.get("/api/incidents")
    def api_incidents() -> list[dict[str, Any]]:
        return read.incidents(store)

    @app.get("/api/incidents/{incident_id}")
    def api_incident(incident_id: str) -> dict[str, Any]:
        try:
            return read.incident_detail(store, incident_id)
        except read.NotFound:
            raise HTTPException(404, f"no incident {incident_id}") from None

    @app.get("/api/findings")
    def api_findings(
        incident: str | None = None, limit: Annotated[int, Query(ge=1, le=5000)] = 200
    ) -> list[dict[str, Any]]:
        return read.findings(store, incident, limit)

    @app.get("/api/proposals")
    def api_proposals(incident: str | None = None) -> list[dict[str, Any]]:
        return read.proposals(store, incident)

    @app.get("/api/proposals/{proposal_id}")
    def api_proposal(proposal_id: str) -> dict[str, Any]:
        try:
            return read.proposal(store, proposal_id)
        except read.NotFound:
            raise HTTPException(404, f"no proposal {proposal_id}") from None

    @app.get("/api/proposals/{proposal_id}/signing")
    def api_signing(
        proposal_id: str,
        decision: Decision = "approve",
        reason: Annotated[str, Query(max_length=500)] = "",
    ) -> dict[str, Any]:
        """The EIP-712 documents a wallet signs (``eth_signTypedData_v4``) for ``decision``."""
        try:
            proposal = read.proposal(store, proposal_id)
        except read.NotFound:
            raise HTTPException(404, f"no proposal {proposal_id}") from None
        try:
            requests = signing_requests(proposal["body"], decision, reason)
        except SignatureRejected as exc:
            raise HTTPException(409, exc.user_message) from None
        return {
            "proposal": proposal_id,
            "decision": decision,
            "eligible": proposal["eligible"],
            "requests": requests,
        }

    async def decide(proposal_id: str, decision: Decision, body: DecisionBody) -> JSONResponse:
        if actions is None:
            raise HTTPException(503, "this dashboard is read-only: no approval path is wired")
        try:
            proposal = await run_in_threadpool(read.proposal, store, proposal_id)
        except read.NotFound:
            raise HTTPException(404, f"no proposal {proposal_id}") from None
        if not proposal["open"]:
            raise HTTPException(409, f"proposal {proposal_id} is {proposal['state']}: it takes no decisions")
        try:
            signed = check(proposal["body"], decision, body.signer, body.signatures, body.reason)
        except SignatureRejected as exc:
            log.warning(
                "dashboard signature refused", proposal=proposal_id, decision=decision, why=exc.user_message
            )
            raise HTTPException(400, exc.user_message) from None
        try:
            if decision == "approve":
                await actions.approve(proposal_id, signed)
            else:
                await actions.reject(proposal_id, signed)
        except GovernanceError as exc:
            raise HTTPException(409, exc.user_message) from None
        except BulwarkError as exc:
            raise HTTPException(502, exc.user_message) from None
        log.info("dashboard decision accepted", proposal=proposal_id, decision=decision, signer=signed.signer)
        after = await run_in_threadpool(read.proposal, store, proposal_id)
        return JSONResponse({"ok": True, "signer": signed.signer, "proposal": _public(after)})

    @app.post("/api/proposals/{proposal_id}/approve")
    async def api_approve(proposal_id: str, body: DecisionBody) -> JSONResponse:
        return await decide(proposal_id, "approve", body)

    @app.post("/api/proposals/{proposal_id}/reject")
    async def api_reject(proposal_id: str, body: DecisionBody) -> JSONResponse:
        return await decide(proposal_id, "reject", body)

    @app.get("/api/audit")
    def api_audit(incident: str | None = None) -> list[dict[str, Any]]:
        return read.audit(store, incident)

    @app.get("/api/audit/verify")
    def api_audit_verify() -> dict[str, Any]:
        return read.verification(store)

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(exposition(registry, store), media_type=CONTENT_TYPE)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _public(proposal: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in proposal.items() if k != "body"}
