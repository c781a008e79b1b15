"""``bulwark init``: read a deployed protocol off the chain and write a starting ``bulwark.yaml``.

Everything is found by probing the chain, never by names in a configuration:

* each proxy's implementation and admin from the ERC-1967 slots; a Transparent proxy's ProxyAdmin
  and its owner, a UUPS proxy's ``owner()`` and roles;
* AccessControl roles: ``hasRole`` probed for DEFAULT_ADMIN_ROLE and every ``*_ROLE()`` constant
  of the ABI, over every account the protocol mentions (``RoleGranted`` logs, address getters,
  admins, owners);
* a TimelockController by ``getMinDelay()`` (and who holds PROPOSER/EXECUTOR/CANCELLER), a Safe by
  ``getOwners()``/``getThreshold()``;
* the pause function (``pause()`` and ``paused()`` in the ABI) and the role guarding it: an
  ``eth_call`` of ``pause()`` from each role's holders (and from nobody in particular, to catch an
  unguarded one);
* the assets: ERC-20s returned by the contract's address getters (``decimals``/``balanceOf``
  answer), plus native ETH, with the contracts holding them;
* the source: every contract of the project is compiled with the project's settings and the one
  whose runtime code matches the implementation (metadata stripped, immutables masked) is named.

What cannot be found is written as a commented line saying what to fill in. Keys are written as
``env:NAME`` references; an RPC URL that may carry an API key too. The YAML is written as text, so
the comments survive. The CLI only prints what :func:`discover` and :func:`render` return.

By job: :mod:`.probe` (eth_calls that may fail), :mod:`.powers` (who may do what),
:mod:`.discover` (the proxies, their sources, the assets), :mod:`.render` (the YAML), and
:mod:`.found` (what was found).
"""

from bulwark.app.init.discover import discover
from bulwark.app.init.found import Discovery, FoundAsset, FoundContract, PauseInfo, SafeInfo, TimelockInfo
from bulwark.app.init.render import render, rpc_value, write_init

__all__ = [
    "Discovery",
    "FoundAsset",
    "FoundContract",
    "PauseInfo",
    "SafeInfo",
    "TimelockInfo",
    "discover",
    "render",
    "rpc_value",
    "write_init",
]
