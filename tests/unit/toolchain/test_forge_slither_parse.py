"""Reading forge's JSON report and Slither's result dicts into typed results (no tools run)."""

from __future__ import annotations

import json

import pytest

from bulwark.errors import ForgeError
from bulwark.toolchain.forge import ForgeRun, _failure_line, _parse
from bulwark.toolchain.slither import _finding

REPORT = {
    "test/V.t.sol:VTest": {
        "test_results": {
            "testOk()": {
                "status": "Success",
                "reason": None,
                "kind": {"Unit": {"gas": 1234}},
                "decoded_logs": [],
            },
            "testBad()": {
                "status": "Failure",
                "reason": "boom",
                "kind": {"Unit": {"gas": 99}},
                "decoded_logs": ["x"],
            },
            "testFuzz(uint256)": {
                "status": "Success",
                "kind": {"Fuzz": {"runs": 256, "mean_gas": 50, "median_gas": 49}},
            },
        }
    }
}


def test_forge_report_becomes_typed_results() -> None:
    run = ForgeRun("0.8.26", _parse("noise\n" + json.dumps(REPORT) + "\n", "", 1))
    assert not run.passed
    assert [t.name for t in run.failures] == ["testBad()"]
    bad = run.test("testBad")
    assert (bad.contract, bad.reason, bad.gas, bad.logs) == ("test/V.t.sol:VTest", "boom", 99, ("x",))
    assert run.test("VTest.testFuzz").gas == 50
    with pytest.raises(ForgeError, match="no forge test 'nope'"):
        run.test("nope")


def test_build_failure_is_a_forge_error_with_the_compiler_message() -> None:
    stderr = (
        "Error: Compiler run failed:\nError (2314): Expected ';' but got '}'\n  --> src/C.sol:21:5:\n   |\n"
    )
    with pytest.raises(ForgeError) as info:
        _parse("", stderr, 1)
    assert (
        info.value.user_message
        == "forge build failed: Error (2314): Expected ';' but got '}' at src/C.sol:21:5"
    )
    assert _failure_line("Error: something else\n", 2) == "forge failed: something else"


def test_slither_result_elements_know_their_contract_and_function() -> None:
    raw = {
        "check": "reentrancy-eth",
        "impact": "High",
        "confidence": "Medium",
        "description": "Reentrancy in V.withdraw()\n",
        "id": "abc",
        "elements": [
            {
                "type": "node",
                "name": "msg.sender.call.value(a)()",
                "source_mapping": {"filename_relative": "V.sol", "lines": [14], "start": 5, "length": 9},
                "type_specific_fields": {
                    "parent": {
                        "type": "function",
                        "name": "withdraw",
                        "type_specific_fields": {
                            "signature": "withdraw()",
                            "parent": {"type": "contract", "name": "V"},
                        },
                    }
                },
            }
        ],
    }
    f = _finding(raw)
    assert (f.check, f.impact, f.description) == ("reentrancy-eth", "High", "Reentrancy in V.withdraw()")
    el = f.elements[0]
    assert (el.contract, el.function, el.source_path, el.lines) == ("V", "withdraw()", "V.sol", (14,))
    assert f.contracts == frozenset({"V"})
