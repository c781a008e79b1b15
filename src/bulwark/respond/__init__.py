"""Containment: circuit-breaker actions through the guardian, applied by the response policy."""

from bulwark.respond.actions import GuardianCall, PlannedAction, guardian_call
from bulwark.respond.policy import DEFAULT_POLICY, ProtectedSet, ResponsePolicy, ResponseRule, plan
from bulwark.respond.responder import Containment, FeeStrategy, Outcome, Responder, outbid

__all__ = [
    "DEFAULT_POLICY",
    "Containment",
    "FeeStrategy",
    "GuardianCall",
    "Outcome",
    "PlannedAction",
    "ProtectedSet",
    "Responder",
    "ResponsePolicy",
    "ResponseRule",
    "guardian_call",
    "outbid",
    "plan",
]
