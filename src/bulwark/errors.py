"""One error root for the whole house, one family per stage.

Every error carries a ``user_message``: one line for a human saying what was wrong and what to
do. The developer text (``str(exc)``) may carry more detail. The CLI prints only the user message
unless ``--debug`` is given.
"""

from __future__ import annotations


class BulwarkError(Exception):
    """Root of every error Bulwark raises on purpose."""

    exit_code: int = 1

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message


class UsageError(BulwarkError, ValueError):
    """The command line or an argument is wrong."""

    exit_code = 2


class ConfigError(BulwarkError, ValueError):
    """A configuration file is malformed or references something that does not exist."""

    exit_code = 2


class ToolchainError(BulwarkError, RuntimeError):
    """A compiler, node or external tool is missing or misbehaves."""


class CompileError(ToolchainError):
    """solc rejected the input; the message lists solc's formatted errors."""

    def __init__(self, user_message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(user_message, detail="\n".join(errors or [user_message]))
        self.errors = list(errors or [])


class CompilerUnavailable(ToolchainError):
    """The requested solc version is not installed and could not be fetched."""


class AnvilError(ToolchainError):
    """anvil could not be started or stopped."""


class ForgeError(ToolchainError):
    """forge could not run or its output could not be read."""


class SlitherError(ToolchainError):
    """Slither failed on the given sources."""


class ChainError(BulwarkError, RuntimeError):
    """The chain (JSON-RPC endpoint) failed or answered something unusable."""


class RpcUnreachable(ChainError, ConnectionError):
    """The RPC endpoint cannot be reached."""


class StaleHead(ChainError):
    """The newest block is too old to act on."""


class TransactionFailed(ChainError):
    """A transaction was mined but reverted, or could not be sent."""


class SafeError(ChainError):
    """A Safe transaction, signature or artifact is malformed or missing."""


class StoreError(BulwarkError, RuntimeError):
    """The database is unreachable or its content is inconsistent."""


class LeaseHeld(StoreError):
    """Another live process holds a lease this one needs (a second ``watch`` on one store)."""


class ScenarioError(BulwarkError, RuntimeError):
    """A scenario could not be set up or run."""


class GovernanceError(BulwarkError, RuntimeError):
    """A policy, proposal or approval is wrong or does not match the chain."""


class PolicyMismatch(GovernanceError):
    """The configured governance policy disagrees with what the chain says."""

    exit_code = 2


class SignatureRejected(GovernanceError, ValueError):
    """A signature was refused: not an owner, a duplicate, over another hash, or too late."""


class ProposalStateError(GovernanceError):
    """The proposal is not in a state that allows the requested step."""


class ExecutionError(BulwarkError, RuntimeError):
    """An approved change could not be carried out, or failed its post-checks."""


class TamperedCandidate(ExecutionError):
    """The code at the implementation address differs from what verification saw."""


class PostCheckFailed(ExecutionError):
    """After the upgrade the protocol does not behave as verified; it stays paused."""
