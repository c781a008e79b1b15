"""The garbage collector's settings for a long-running screening process.

Screening allocates a few hundred short-lived objects per transaction (trace frames, steps, logs)
that reference counting frees; the cyclic collector still walks the whole heap (every module, ABI
and compiled configuration loaded at startup) on each full collection, and that walk was about a
fifth of screening's CPU on the 2-core box (December 2026). Freezing what startup loaded takes it
out of those walks for good; collecting young objects less often spends a little memory on cycles
(a failed request's traceback) that wait longer to be freed.
"""

from __future__ import annotations

import gc

# Allocations (net of frees) between young collections: Python's default is 700.
_YOUNG_THRESHOLD = 20_000


def settle_after_startup() -> None:
    """Call once, when configuration, ABIs and detectors are loaded and before the loop starts."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(_YOUNG_THRESHOLD, middle, old)
