"""Sentinel keys from env or keystore (never shown), and fee bumping arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import structlog
from eth_account import Account

from bulwark.chain.keys import load_signer
from bulwark.chain.relayer import Fees, RelayerPolicy
from bulwark.errors import ConfigError
from bulwark.logs import mask

KEY = "0x" + "4c" * 32


def test_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BW_SENTINEL", KEY)
    signer = load_signer("env:BW_SENTINEL")
    assert signer.address == Account.from_key(KEY).address
    assert KEY[2:] not in repr(signer) and mask(f"k={KEY}") == "k=0x***"


def test_missing_env_and_bad_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BW_NOPE", raising=False)
    with pytest.raises(ConfigError, match="BW_NOPE is not set"):
        load_signer("env:BW_NOPE")
    with pytest.raises(ConfigError, match="env:NAME or keystore:PATH"):
        load_signer(KEY)  # a literal key is refused: keys are references
    monkeypatch.setenv("BW_BAD", "0x1234")
    with pytest.raises(ConfigError, match="does not hold") as info:
        load_signer("env:BW_BAD")
    assert "0x1234" not in info.value.user_message


def test_keystore_with_password_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    password = "correct horse battery staple"
    keyfile = Account.encrypt(KEY, password, kdf="pbkdf2", iterations=1000)
    path = tmp_path / "sentinel.json"
    path.write_text(json.dumps(keyfile))
    (tmp_path / "pw.txt").write_text(password + "\n")
    signer = load_signer("keystore:sentinel.json", password_ref="file:pw.txt", base_dir=tmp_path)
    assert signer.address == Account.from_key(KEY).address
    monkeypatch.setenv("BW_PW", password)
    assert load_signer(f"keystore:{path}", password_ref="env:BW_PW").address == signer.address
    # The password and the key are masked in every log line from now on.
    assert "***" in mask(password) and "***" in mask(KEY)


def test_keystore_wrong_password_says_so_without_secrets(tmp_path: Path) -> None:
    keyfile = Account.encrypt(KEY, "right", kdf="pbkdf2", iterations=1000)
    path = tmp_path / "k.json"
    path.write_text(json.dumps(keyfile))
    (tmp_path / "pw").write_text("wrong-password")
    with pytest.raises(ConfigError, match="wrong password") as info:
        load_signer(f"keystore:{path}", password_ref=f"file:{tmp_path / 'pw'}")
    assert "wrong-password" not in info.value.user_message
    with pytest.raises(ConfigError, match="needs a password"):
        load_signer(f"keystore:{path}")


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
