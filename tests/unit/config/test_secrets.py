"""One reference syntax and one resolver for every secret: configuration fields and CLI options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from bulwark.config import ConfigProblems, load_config, secret_problems
from bulwark.config.secrets import KEY_SCHEMES, SecretRef, parse_reference
from bulwark.errors import BulwarkError, ConfigError
from bulwark.logs import mask

KEY = "0x" + "4c" * 32
ADDRESS = Account.from_key(KEY).address
GUARDIAN = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
BASE = f"""
version: 1
networks:
  local: {{chain_id: 31337, rpc_http: "http://127.0.0.1:8545"}}
protocols:
  demo:
    network: local
    contracts:
      vault: {{address: "{GUARDIAN}", kind: vault}}
"""
INLINE_SECRET = "hunter2-inline-webhook-secret"


def _load(tmp_path: Path, extra: str) -> object:
    path = tmp_path / "bulwark.yaml"
    path.write_text(BASE + extra)
    return load_config(path)


def _problems(tmp_path: Path, extra: str) -> list[str]:
    with pytest.raises(ConfigProblems) as info:
        _load(tmp_path, extra)
    assert INLINE_SECRET not in info.value.user_message  # the refusal never echoes the value
    return info.value.problems


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (
            f"notifications:\n  ops: {{kind: webhook, url: env:HOOK, secret: {INLINE_SECRET}}}\n",
            "notifications.ops.secret",
        ),
        (
            "notifications:\n  mail: {kind: email, host: smtp.example.org, sender: a@example.org,\n"
            f"         recipients: [b@example.org], username: u, password: {INLINE_SECRET}}}\n",
            "notifications.mail.password",
        ),
        (
            f"notifications:\n  chat: {{kind: slack, url: 'https://hooks.slack.com/services/{INLINE_SECRET}'}}\n",
            "notifications.chat.url",
        ),
        (f"responses:\n  sentinel_key: '{INLINE_SECRET}'\n  guardians: {{demo: '{GUARDIAN}'}}\n",
         "responses.sentinel_key"),
        (f"responses:\n  sentinel_key: env:K\n  sentinel_password: {INLINE_SECRET}\n"
         f"  guardians: {{demo: '{GUARDIAN}'}}\n", "responses.sentinel_password"),
        (f"intel:\n  publisher_key: {INLINE_SECRET}\n", "intel.publisher_key"),
        (f"intel:\n  consensus: {{threshold: 1, peers: ['http://x'], channel_secret: {INLINE_SECRET}}}\n",
         "intel.consensus.channel_secret"),
    ],
)  # fmt: skip
def test_an_inline_secret_is_refused_with_one_line_naming_the_field(
    tmp_path: Path, extra: str, field: str
) -> None:
    problems = _problems(tmp_path, extra)
    assert [p for p in problems if p.startswith(f"{field}: an inline secret is refused")], problems


def test_a_file_reference_is_accepted_for_the_sentinel_key(tmp_path: Path) -> None:
    (tmp_path / "sentinel.key").write_text(KEY[2:] + "\n")
    cfg = _load(
        tmp_path, f"responses:\n  sentinel_key: file:sentinel.key\n  guardians: {{demo: '{GUARDIAN}'}}\n"
    )
    assert secret_problems(cfg) == []  # type: ignore[arg-type]
    key = cfg.responses.sentinel_key.private_key()  # type: ignore[attr-defined]
    assert Account.from_key(key).address == ADDRESS


def test_a_keystore_needs_its_password_reference_beside_it(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path, f"responses:\n  sentinel_key: keystore:k.json\n  guardians: {{demo: '{GUARDIAN}'}}\n"
    )
    assert any(
        p.startswith("responses: sentinel_key is a keystore: give sentinel_password") for p in problems
    )


def test_a_missing_key_file_is_a_config_check_problem(tmp_path: Path) -> None:
    cfg = _load(
        tmp_path, f"responses:\n  sentinel_key: file:absent.key\n  guardians: {{demo: '{GUARDIAN}'}}\n"
    )
    [problem] = secret_problems(cfg)  # type: ignore[arg-type]
    assert problem.startswith("responses.sentinel_key: secret file") and problem.endswith(
        "absent.key does not exist"
    )


def test_keystore_with_a_relative_password_file_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "correct horse battery staple"
    (tmp_path / "sentinel.json").write_text(
        json.dumps(Account.encrypt(KEY, password, kdf="pbkdf2", iterations=1000))
    )
    (tmp_path / "pw.txt").write_text(password + "\n")
    cfg = _load(
        tmp_path,
        f"responses:\n  sentinel_key: keystore:sentinel.json\n  sentinel_password: file:pw.txt\n"
        f"  guardians: {{demo: '{GUARDIAN}'}}\n",
    )
    resp = cfg.responses  # type: ignore[attr-defined]
    assert Account.from_key(resp.sentinel_key.private_key(resp.sentinel_password)).address == ADDRESS
    monkeypatch.setenv("BW_PW", password)
    ref = SecretRef(f"keystore:{tmp_path / 'sentinel.json'}")
    assert Account.from_key(ref.private_key(SecretRef("env:BW_PW"))).address == ADDRESS
    # A file: holding a keystore JSON is read the same way.
    assert SecretRef("file:sentinel.json", tmp_path).private_key(SecretRef("env:BW_PW")) == KEY
    assert "***" in mask(password) and "***" in mask(KEY)  # masked in every log line from now on


def test_keystore_wrong_or_missing_password_says_so_without_secrets(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text(json.dumps(Account.encrypt(KEY, "right", kdf="pbkdf2", iterations=1000)))
    (tmp_path / "pw").write_text("wrong-password")
    with pytest.raises(ConfigError, match="wrong password") as info:
        SecretRef(f"keystore:{path}").private_key(SecretRef(f"file:{tmp_path / 'pw'}"))
    assert "wrong-password" not in info.value.user_message
    with pytest.raises(ConfigError, match="is a keystore: give its password"):
        SecretRef(f"keystore:{path}").private_key()


def test_env_keys_bad_keys_and_literals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BW_SENTINEL", KEY[2:])  # without 0x
    assert SecretRef("env:BW_SENTINEL").private_key() == KEY
    assert KEY[2:] not in mask(f"k={KEY}")
    monkeypatch.delenv("BW_NOPE", raising=False)
    with pytest.raises(ConfigError, match="BW_NOPE is not set"):
        SecretRef("env:BW_NOPE").private_key()
    monkeypatch.setenv("BW_BAD", "0x1234")
    with pytest.raises(ConfigError, match="does not hold a 32-byte") as info:
        SecretRef("env:BW_BAD").private_key()
    assert "0x1234" not in info.value.user_message
    with pytest.raises(ConfigError, match="never the key itself"):
        SecretRef(KEY).private_key()


def test_command_line_references_use_the_same_rules() -> None:
    with pytest.raises(
        ConfigError, match=r"^--key: an inline secret is refused; give a reference \(env:NAME"
    ):
        parse_reference(KEY, field="--key", schemes=KEY_SCHEMES)
    with pytest.raises(ConfigError, match="--password: an inline secret is refused"):
        parse_reference("hunter2", field="--password")
    with pytest.raises(ConfigError):
        parse_reference("keystore:k.json", field="--password")  # a password is env: or file:
    assert parse_reference("keystore:k.json", field="--key", schemes=KEY_SCHEMES).kind == "keystore"


def test_cli_approve_refuses_an_inline_key_in_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("bulwark")), "approve", "p1", "--key", KEY, "--rpc", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    [line] = proc.stderr.strip().splitlines()
    assert "--key: an inline secret is refused" in line and KEY[2:] not in line


def test_a_resolved_value_is_masked_and_errors_are_bulwark_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BW_HOOK_SECRET", "s3cr3t-hook-value-42")
    value = parse_reference("env:BW_HOOK_SECRET", field="secret").resolve()
    assert mask(f"sending with {value}") == "sending with ***"
    assert issubclass(ConfigError, BulwarkError)


def test_config_check_refuses_an_inline_webhook_secret_and_smtp_password(tmp_path: Path) -> None:
    path = tmp_path / "bulwark.yaml"
    path.write_text(
        BASE
        + "notifications:\n"
        + f"  ops: {{kind: webhook, url: env:HOOK, secret: {INLINE_SECRET}}}\n"
        + "  mail: {kind: email, host: smtp.example.org, sender: a@example.org,\n"
        + f"         recipients: [b@example.org], username: u, password: {INLINE_SECRET}}}\n"
    )
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("bulwark")), "config", "check", "-c", str(path)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "notifications.ops.secret: an inline secret is refused" in out
    assert "notifications.mail.password: an inline secret is refused" in out
    assert INLINE_SECRET not in out


def test_the_retired_preempt_key_is_refused_by_name(tmp_path: Path) -> None:
    """Pre-emptive patches are deployed by the responder's relayer now; a key that would sit unused
    in the configuration is refused, naming it, rather than kept in silence."""
    problems = _problems(tmp_path, "intel:\n  preempt_key: env:K\n")
    assert any(p.startswith("intel.preempt_key") for p in problems), problems
