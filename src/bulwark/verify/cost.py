"""Cost of a candidate: deployed code size against the live one and EIP-170, gas per function."""

from __future__ import annotations

from collections.abc import Sequence

from bulwark.domain.verify import EIP170_LIMIT, Check, CostReport, FunctionGas, Reason

__all__ = ["cost_reasons", "cost_report"]


def cost_report(size_before: int, size_after: int, functions: Sequence[FunctionGas] = ()) -> CostReport:
    return CostReport(functions=tuple(functions), size_before=size_before, size_after=size_after)


def cost_reasons(report: CostReport, *, max_overhead_pct: float | None = None) -> tuple[Reason, ...]:
    """EIP-170 is a hard failure; a gas budget, when given, too."""
    out: list[Reason] = []
    if not report.within_limit:
        out.append(
            Reason(
                Check.COST,
                "code-size",
                "deployed code",
                f"deployed code is {report.size_after} bytes ({report.size_delta:+d} vs live), over the "
                f"EIP-170 limit of {EIP170_LIMIT}",
            )
        )
    if max_overhead_pct is not None:
        for fn in report.functions:
            if fn.overhead_pct > max_overhead_pct:
                out.append(
                    Reason(
                        Check.COST,
                        "gas-overhead",
                        fn.name,
                        f"{fn.name} costs {fn.overhead_pct:+.1f}% gas (median {fn.original_median} -> "
                        f"{fn.patched_median} over {fn.samples} calls), over the budget of "
                        f"{max_overhead_pct}%",
                    )
                )
    return tuple(out)
