"""Execution: an approved proposal through the Safe and the timelock, post-upgrade checks, resume."""

from bulwark.execute.run import execute_proposal, execute_upgrade, resume

__all__ = ["execute_proposal", "execute_upgrade", "resume"]
