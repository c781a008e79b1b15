"""LendHub deployed on a real anvil as a team would run it (Safe, timelock, Bulwark's guardian holding
PAUSER_ROLE): the reference2 session fixture, shared so ``bulwark init`` probes the same chain."""

from __future__ import annotations

from tests.e2e.reference2.conftest import LendHubEnv, env, lendhub_env

__all__ = ["LendHubEnv", "env", "lendhub_env"]
