"""LendHub: a second reference protocol written the way open-source protocols are (a Foundry
project, OpenZeppelin v5 upgradeable contracts, transparent proxies, a Safe and a timelock) with
its own attacks. See scenarios/protocols/lendhub/README.md."""

from bulwark.scenarios.lendhub.attacks import (
    AttackContext,
    LendHubAttack,
    load_attacks,
    protocol_holdings,
    run_attack,
)
from bulwark.scenarios.lendhub.deploy import deploy_lendhub, lendhub_project, mint_usd, proxy_admin_of
from bulwark.scenarios.lendhub.govern import deploy_implementation, unpause_component, upgrade_component
from bulwark.scenarios.lendhub.model import LendHub, LendHubComponent, LendHubSeed
from bulwark.scenarios.lendhub.project import LENDHUB_ROOT, FoundryProject, load_foundry_project
from bulwark.scenarios.lendhub.traffic import BenignTx, benign_traffic

__all__ = [
    "LENDHUB_ROOT",
    "AttackContext",
    "BenignTx",
    "FoundryProject",
    "LendHub",
    "LendHubAttack",
    "LendHubComponent",
    "LendHubSeed",
    "benign_traffic",
    "deploy_implementation",
    "deploy_lendhub",
    "lendhub_project",
    "load_attacks",
    "load_foundry_project",
    "mint_usd",
    "protocol_holdings",
    "proxy_admin_of",
    "run_attack",
    "unpause_component",
    "upgrade_component",
]
