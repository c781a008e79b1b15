"""Early warning: a contract is deployed whose code names the protected contracts or a flash-loan
provider. Attack contracts are usually deployed minutes before use; this flags them, at medium
severity, since integrations legitimately reference protocols too."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from bulwark.detect.base import About, Detector, Params
from bulwark.detect.evm import contains_address
from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import Action, Confidence, Finding, Severity, VulnClass


class EarlyWarningParams(Params):
    min_protected_refs: int = Field(default=1, ge=1)
    ignore_role_holders: bool = True  # the protocol's own deployments (upgrades) are expected


class EarlyWarning(Detector):
    """Deployment of a contract whose code references protected contracts or flash-loan providers."""

    ABOUT = About("early-warning", VulnClass.SUSPICIOUS_DEPLOYMENT, trace_only=True)
    IMPACT, CONFIDENCE = Severity.MEDIUM, Confidence.MEDIUM
    params: EarlyWarningParams

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if self.params.ignore_role_holders and event.tx.sender in view.protocol.role_holders:
            return ()
        for step in event.calls():  # cheap exit (most transactions): nothing is deployed
            if step.frame is not None and step.frame.type in _CREATES:
                return self._judge(view, event)
        return ()

    def _judge(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        p = self.params
        lenders = view.protocol.all_flash_lenders
        for step in event.calls():
            f = step.frame
            if f is None or step.reverted or f.type not in _CREATES or f.error:
                continue
            code = f.input + f.output  # init code carries constructor arguments; output is runtime code
            refs = sorted(a for a in view.protocol.contracts if contains_address(code, a))
            flash_refs = sorted(a for a in lenders if contains_address(code, a))
            if len([r for r in refs if r not in lenders]) < p.min_protected_refs and not flash_refs:
                continue
            yield self.finding(
                view,
                event,
                title=f"contract {f.to} deployed referencing {len(refs)} protected contract(s)"
                + (" and a flash-loan provider" if flash_refs else ""),
                contract=f.to,
                action=Action.ALERT,
                evidence={
                    "deployer": f.sender,
                    "references": [view.protocol.contracts[a].name for a in refs],
                    "flash_lenders": flash_refs,
                },
            )


_CREATES = frozenset({"CREATE", "CREATE2"})
