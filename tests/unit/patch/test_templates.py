"""Each template on a small vulnerable contract: the right finding, a compiling patch, a stable diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulwark.domain import VulnClass
from bulwark.domain.patch import Patch
from bulwark.errors import CompileError
from bulwark.patch import PatchRequest, generate, locate
from bulwark.toolchain.solc import Compiler

from .conftest import HERE, check_snapshot

CONTRACTS = HERE / "contracts"


def _patches(compiler: Compiler, name: str) -> list[Patch]:
    return generate(PatchRequest(paths=[CONTRACTS / name], use_slither=False), compiler=compiler)


def _single(patches: list[Patch], template: str) -> Patch:
    for p in patches:
        if p.template == template:
            return p
    raise AssertionError(f"no {template} patch among {[p.template for p in patches]}")


def test_cross_function_reentrancy_locks_every_sharing_entry_point(compiler: Compiler) -> None:
    patches = _patches(compiler, "CrossReentrancy.sol")
    best = patches[0]
    assert best.vuln_class is VulnClass.REENTRANCY and best.function == "withdraw"
    text = best.patched_sources["contracts/CrossReentrancy.sol"]
    # transfer shares `balances` with withdraw: it must be locked too (cross-function re-entry)
    assert "function transfer(address to, uint256 amount) external bulwarkNonReentrant" in text
    # withdrawTwice calls withdraw internally: its body moved out so the nested call does not trip the lock
    assert "_bulwark_withdraw();" in text and "function _bulwark_withdraw() internal" in text
    # < 0.8.25: the flag lives in a namespaced storage slot, no new state variable
    assert "sload(0x" in text and "tload" not in text
    check_snapshot("reentrancy_cross_function", best.diff)


def test_access_control_reuses_the_sibling_modifier(compiler: Compiler) -> None:
    best = _patches(compiler, "OpenSetter.sol")[0]
    assert best.vuln_class is VulnClass.ACCESS_CONTROL and best.function == "resetFee"
    assert "function resetFee() external onlyOwner {" in best.patched_sources["contracts/OpenSetter.sol"]
    check_snapshot("access_control_sibling_modifier", best.diff)


def test_legacy_wallet_gets_constructor_tx_origin_and_send_fixes(compiler: Compiler) -> None:
    patches = _patches(compiler, "Legacy.sol")
    assert patches[0].solc_version.startswith("0.4.")
    combined = patches[0].patched_sources["contracts/Legacy.sol"]
    assert "constructor() public" in combined
    assert "require(msg.sender == owner);" in combined
    assert "require(to.send(amount));" in combined
    check_snapshot("legacy_wallet_combined", patches[0].diff)
    # each fix also exists on its own, ranked after the combination
    templates = {p.template for p in patches[1:]}
    assert {"access-control-guard", "tx-origin-to-msg-sender", "check-call-result"} <= templates


def test_unchecked_token_transfer_goes_through_a_safe_helper(compiler: Compiler) -> None:
    best = _single(_patches(compiler, "TokenPay.sol"), "check-call-result")
    text = best.patched_sources["contracts/TokenPay.sol"]
    assert "_bulwarkCallToken(address(token), abi.encodeWithSelector(bytes4(0x23b872dd)" in text
    check_snapshot("unchecked_token_transfer", best.diff)


def test_signature_replay_without_a_unique_field_binds_a_nonce_first(compiler: Compiler) -> None:
    """(to, amount) carries no id: recording digests would refuse paying the same amount twice, so
    the first fix binds a nonce, the chain and the contract; digest tracking is the next candidate."""
    patches = [p for p in _patches(compiler, "Voucher.sol") if p.vuln_class is VulnClass.SIGNATURE_REPLAY]
    best = patches[0]
    text = best.patched_sources["contracts/Voucher.sol"]
    assert best.template == "signature-bind-domain"
    assert "abi.encodePacked(address(this), block.chainid, _bulwarkNonceOf(signer), to, amount)" in text
    assert "_bulwarkUseNonce(signer);" in text
    check_snapshot("signature_bind_domain_nonce", best.diff)
    digest = next(p for p in patches if p.template == "signature-used-digest")
    assert "_bulwarkUseDigest(h);" in digest.patched_sources["contracts/Voucher.sol"]
    assert patches.index(digest) > 0
    check_snapshot("signature_used_digest", digest.diff)


def test_unsafe_unchecked_block_is_reopened_but_loop_increments_are_kept(compiler: Compiler) -> None:
    best = _patches(compiler, "Wrap.sol")[0]
    text = best.patched_sources["contracts/Wrap.sol"]
    assert best.template == "remove-unchecked" and best.function == "grant"
    assert "unchecked { ++i; }" in text  # not risky: left alone
    assert text.count("unchecked") == 1
    check_snapshot("remove_unchecked", best.diff)


def test_nothing_to_fix_gives_no_patch(compiler: Compiler) -> None:
    assert _patches(compiler, "Clean.sol") == []


def test_a_source_that_does_not_compile_is_a_compile_error(compiler: Compiler) -> None:
    broken = (HERE / "Broken.sol.txt").read_text()
    with pytest.raises(CompileError):
        generate(PatchRequest(sources={"Broken.sol": broken}, use_slither=False), compiler=compiler)


def test_trace_reentry_raises_the_reentrancy_finding(compiler: Compiler) -> None:
    target = "0x" + "11" * 20
    attacker = "0x" + "22" * 20
    withdraw = "0x3ccfd60b"  # withdraw()
    trace = {
        "type": "CALL",
        "from": attacker,
        "to": attacker,
        "input": "0x",
        "calls": [
            {
                "type": "CALL",
                "from": attacker,
                "to": target,
                "input": withdraw,
                "calls": [
                    {
                        "type": "CALL",
                        "from": target,
                        "to": attacker,
                        "input": "0x",
                        "calls": [{"type": "CALL", "from": attacker, "to": target, "input": withdraw}],
                    }
                ],
            }
        ],
    }
    request = PatchRequest(paths=[CONTRACTS / "CrossReentrancy.sol"], use_slither=False)
    plain = {f.function: f for f in locate(request, compiler)}
    traced = {f.function: f for f in locate(PatchRequest(**{**_fields(request), "trace": trace}), compiler)}
    assert traced["withdraw"].score > plain["withdraw"].score
    assert any("re-entry" in e for e in traced["withdraw"].evidence)


def _fields(request: PatchRequest) -> dict[str, object]:
    return {f: getattr(request, f) for f in request.__dataclass_fields__}


def test_slither_findings_are_merged(compiler: Compiler) -> None:
    findings = locate(PatchRequest(paths=[CONTRACTS / "Legacy.sol"]), compiler)
    detectors = {d for f in findings for d in f.detector.split("+")}
    assert "slither:tx-origin" in detectors
    assert Path


def test_push_payments_that_a_recipient_can_refuse_become_pay_or_credit(compiler: Compiler) -> None:
    patches = _patches(compiler, "Throne.sol")
    dos = {p.function: p for p in patches if p.template == "pay-or-credit"}
    # the refund to the caller-settable king and the payout loop; never the caller's own withdrawal
    assert {"claimThrone", "share"} <= set(dos) and "withdraw" not in dos
    text = dos["claimThrone"].patched_sources["contracts/Throne.sol"]
    assert "(bool ok, ) = _bulwarkCallOrCredit(payable(king), msg.value);" in text
    assert "function bulwarkWithdrawPending() external" in text
    check_snapshot("dos_pay_or_credit", dos["claimThrone"].diff)
    loop = dos["share"].patched_sources["contracts/Throne.sol"]
    assert "_bulwarkSendOrCredit(payable(members[i]), msg.value / members.length);" in loop


def test_timestamp_wait_also_needs_the_blocks(compiler: Compiler) -> None:
    best = _single(_patches(compiler, "Throne.sol"), "timestamp-block-floor")
    text = best.patched_sources["contracts/Throne.sol"]
    assert "&& _bulwarkBlocksPassed(keccak256(abi.encode(uint256(" in text
    assert ", msg.sender)), (uint256(1 hours) + 11) / 12))" in text
    assert "return marked == 0 || block.number >= marked + blocks;" in text
    assert text.count("_bulwarkMarkBlock(keccak256(abi.encode(uint256(") == 1
    check_snapshot("timestamp_block_floor", best.diff)


def test_setup_inherited_kill_and_origin_identity(compiler: Compiler) -> None:
    patches = _patches(compiler, "Setup.sol")
    setup = _single(patches, "setup-deployer-only")
    text = setup.patched_sources["contracts/Setup.sol"]
    assert 'require(msg.sender == _bulwarkDeployer(), "deployer only");' in text
    assert "constructor() public {" in text  # none existed: one records the deployer
    check_snapshot("setup_deployer_only", setup.diff)
    # kill() is declared in Base, which has no onlyOwner: the guard goes on an override in Setup
    kill = next(p for p in patches if p.function == "kill" and p.template == "access-control-guard")
    ktext = kill.patched_sources["contracts/Setup.sol"]
    assert "function kill() virtual public" in ktext
    assert "function kill() public override onlyOwner {" in ktext and "super.kill();" in ktext
    origin = _single(patches, "tx-origin-to-msg-sender")
    assert "address account = msg.sender;" in origin.patched_sources["contracts/Setup.sol"]


def test_block_randomness_refuses_contract_callers_without_unrelated_fixes(compiler: Compiler) -> None:
    findings = locate(PatchRequest(paths=[CONTRACTS / "Lottery.sol"], use_slither=False), compiler)
    randomness = [f for f in findings if f.vuln_class is VulnClass.WEAK_RANDOMNESS]
    # play() hashes a blockhash; the deadline comparisons are a clock, and extend() is owner-only
    assert [f.function for f in randomness] == ["play"]
    # rounds += 1 and block.number - 1 cannot wrap: no arithmetic finding to bundle
    assert not [f for f in findings if f.vuln_class is VulnClass.INTEGER_OVERFLOW]
    best = _patches(compiler, "Lottery.sol")[0]
    assert best.template == "randomness-eoa-only"
    text = best.patched_sources["contracts/Lottery.sol"]
    assert text.count("require(msg.sender == tx.origin,") == 1
    assert "validator" in best.rationale or "block producer" in best.rationale
    assert "EIP-7702" in best.rationale
    check_snapshot("randomness_eoa_only", best.diff)


def test_v2_spot_reserves_become_time_weighted(compiler: Compiler) -> None:
    best = _patches(compiler, "SpotLend.sol")[0]
    assert best.vuln_class is VulnClass.ORACLE_MANIPULATION and best.template == "oracle-v2-twap-reserves"
    text = best.patched_sources["contracts/SpotLend.sol"]
    assert "(uint112 r0, uint112 r1, ) = _bulwarkTwapReserves(address(pair));" in text
    # the state-changing reader observes first; the view-only deposit path does not
    assert text.count("_bulwarkObserve(address(pair));") == 1
    assert "price1CumulativeLast()" in text and "unchecked {" in text
    assert 'require(pairTime != uint32(block.timestamp), "Bulwark: no price history yet");' in text
    check_snapshot("oracle_v2_twap_reserves", best.diff)
