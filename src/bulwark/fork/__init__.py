"""Fork machinery shared by the stages that prove things on a copy of the chain (verify, remedy):
disposable anvil forks (:mod:`.session`), attack replay (:mod:`.replay`), benign-history
regression replay (:mod:`.regress`) and the seeded invariant fuzz (:mod:`.invariants`).

It sits below the stages and above chain/config/toolchain, so two stages share it without
importing each other."""
