"""Patch stage: locate the flaw, write the fix (Solidity source edits at AST byte offsets).

from bulwark.patch import generate, PatchRequest
patches = generate(PatchRequest(paths=[Path("Vault.sol")]), compiler=compiler)
"""

from bulwark.domain.patch import Edit, Localisation, Patch
from bulwark.patch.engine import PatchError, PatchRequest, generate, locate

__all__ = ["Edit", "Localisation", "Patch", "PatchError", "PatchRequest", "generate", "locate"]
