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


def test_a_closed_stderr_never_breaks_the_caller() -> None:
    """A stream captured earlier (a test runner's, a detached terminal's) may be closed by now."""
    import io

    from bulwark import logs

    old = sys.stderr
    runner_stream = io.StringIO()
    sys.stderr = runner_stream
    try:
        logs.configure("info")  # configured while a runner's stream was stderr...
    finally:
        sys.stderr = old
    runner_stream.close()  # ...which the runner has closed since
    try:
        logs.get_logger("t").warning("containment sent", tx="0x01")  # must not raise
        sys.stderr = runner_stream
        logs.get_logger("t").warning("still fine")  # nor when stderr itself is closed
    finally:
        sys.stderr = old
        logs.configure("warning")
