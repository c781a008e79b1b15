"""Fee bumping arithmetic (sentinel keys: tests/unit/config/test_secrets.py)."""

from __future__ import annotations

import pytest
import structlog

from bulwark.chain.relayer import Fees, RelayerPolicy

KEY = "0x" + "4c" * 32


def test_bump_raises_both_fees_by_at_least_ten_percent() -> None:
    for tip, fee in ((1, 1), (0, 7), (10**9, 3 * 10**9), (123_456_789, 987_654_321)):
        bumped = Fees(max_fee=fee, tip=tip).bumped(10)
        assert bumped.tip >= tip * 11 / 10 and bumped.tip > tip
        assert bumped.max_fee >= fee * 11 / 10 and bumped.max_fee > fee
        assert bumped.max_fee >= bumped.tip
    assert Fees(100, 10).bumped(5).tip >= 11  # below the rule's minimum: raised to 10%
    with pytest.raises(ValueError, match="at least 10"):
        RelayerPolicy(bump_percent=5)
    with pytest.raises(ValueError, match="bad fees"):
        Fees(max_fee=1, tip=2)


def test_low_balance_warning_is_logged(capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from bulwark.chain.relayer import Relayer
    from bulwark.chain.signer import Signer

    class FakeClient:
        display_url = "fake"

        async def get_balance(self, address: str, block: str) -> int:
            return 10**15

    structlog.reset_defaults()
    relayer = Relayer(FakeClient(), Signer(KEY))  # type: ignore[arg-type]
    status = asyncio.run(relayer.check_balance())
    assert status.low and status.txs_left == 0 and relayer.last_balance == status
    assert "sentinel balance low" in capsys.readouterr().out
