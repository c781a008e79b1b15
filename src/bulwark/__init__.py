"""Bulwark: automated security patching for EVM protocols."""

__version__ = "0.1.0"
