import subprocess
import sys


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bulwark.cli.main", *args], capture_output=True, text=True, check=False
    )


def test_parser_usage_errors_exit_2_without_a_traceback() -> None:
    for args, expected in ((("nosuchcmd",), "No such command"), (("scenario", "run"), "Missing argument")):
        proc = _run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert expected in proc.stderr and "Traceback" not in proc.stderr
