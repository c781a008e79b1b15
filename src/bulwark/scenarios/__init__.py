"""The demo protocol and the attack scenarios run against it.

``deploy`` puts the protected demo protocol on a chain (docs/demo-protocol.md); ``protocol`` holds
its typed handles; ``safe`` is the Safe v1.4.1 plumbing (EIP-712 SafeTx signing, execution).
"""
