"""Compilers and the node: solcjs (every version), the solc shim, forge, Slither, anvil."""
