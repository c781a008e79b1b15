"""Governance: policies checked against the chain, proposals as Safe transactions through the
timelock (evidence hash as the salt), and EIP-712 approvals checked against the Safe's owners."""

from bulwark.govern.approvals import (
    approve,
    approve_missing,
    check_approval,
    reject,
    sign,
    status,
    submit_rejection,
    submit_signature,
)
from bulwark.govern.policy import check_policy, policy_problems
from bulwark.govern.proposal import (
    VerdictLike,
    load,
    proposals,
    propose_unpause,
    propose_upgrade,
    set_state,
)

__all__ = [
    "VerdictLike",
    "approve",
    "approve_missing",
    "check_approval",
    "check_policy",
    "load",
    "policy_problems",
    "proposals",
    "propose_unpause",
    "propose_upgrade",
    "reject",
    "set_state",
    "sign",
    "status",
    "submit_rejection",
    "submit_signature",
]
