"""EIP-1967 proxy storage slots, and the implementation a proxy delegates to, read from its slot.

Each slot is ``bytes32(uint256(keccak256("eip1967.proxy.<name>")) - 1)`` (literal here so that a
reader can match it against a contract; tests/unit/chain/test_eip1967.py derives them). One place
for the chain layer, the stages (detect, verify, govern, execute) and the scenarios.
"""

from __future__ import annotations

from bulwark.chain.client import BlockId, ChainClient
from bulwark.chain.convert import to_address
from bulwark.domain import Address, Hash32

__all__ = ["ADMIN_SLOT", "BEACON_SLOT", "IMPLEMENTATION_SLOT", "SLOTS", "implementation_of"]

IMPLEMENTATION_SLOT = Hash32("0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc")
ADMIN_SLOT = Hash32("0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103")
BEACON_SLOT = Hash32("0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6cb3582b35133d50")
# name -> slot, in the order EIP-1967 lists them
SLOTS: dict[str, Hash32] = {"implementation": IMPLEMENTATION_SLOT, "admin": ADMIN_SLOT, "beacon": BEACON_SLOT}


async def admin_of(client: ChainClient, proxy: str, block: BlockId = "latest") -> Address | None:
    """A Transparent proxy's admin (its ProxyAdmin) from the ERC-1967 slot; None when unset (UUPS)."""
    word = await client.get_storage_at(to_address(proxy), ADMIN_SLOT, block)
    return to_address("0x" + str(word)[-40:]) if int(str(word), 16) else None


async def implementation_of(client: ChainClient, proxy: str, block: BlockId = "latest") -> Address:
    """The implementation an ERC-1967 proxy delegates to (its storage slot, not a getter)."""
    word = await client.get_storage_at(to_address(proxy), IMPLEMENTATION_SLOT, block)
    return to_address("0x" + str(word)[-40:])
