"""Entry point: builds the Typer app and turns every ``BulwarkError`` into one line and an exit code."""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import typer

from bulwark import __version__, logs
from bulwark.cli import audit, doctor
from bulwark.cli import config as config_cmd
from bulwark.cli import demo as demo_cmd
from bulwark.cli import evidence as evidence_cmd
from bulwark.cli import govern as govern_cmd
from bulwark.cli import incidents as incidents_cmd
from bulwark.cli import init as init_cmd
from bulwark.cli import intel as intel_cmd
from bulwark.cli import patch as patch_cmd
from bulwark.cli import remedy as remedy_cmd
from bulwark.cli import scenario as scenario_cmd
from bulwark.cli import serve as serve_cmd
from bulwark.cli import status as status_cmd
from bulwark.cli import verify as verify_cmd
from bulwark.cli import watch as watch_cmd
from bulwark.cli import worker as worker_cmd
from bulwark.errors import BulwarkError

app = typer.Typer(
    name="bulwark",
    help="Bulwark: detect, contain, patch, verify and ship fixes for EVM protocols.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    log_json: bool = typer.Option(False, "--log-json", help="Logs as JSON lines on stderr."),
) -> None:
    _state["debug"] = debug
    logs.configure("debug" if debug else "warning", json=log_json)


@app.command("version")
def _version() -> None:
    """Print Bulwark's version."""
    typer.echo(__version__)


doctor.register(app)
demo_cmd.register(app)
verify_cmd.register(app)
evidence_cmd.register(app)
patch_cmd.register(app)
config_cmd.register(app)
watch_cmd.register(app)
worker_cmd.register(app)
status_cmd.register(app)
audit.register(app)
incidents_cmd.register(app)
govern_cmd.register(app)
serve_cmd.register(app)
scenario_cmd.register(app)
remedy_cmd.register(app)
intel_cmd.register(app)
init_cmd.register(app)


def _click_exception(exc: BaseException) -> Any:
    """A usage error from the command parser (typer bundles its own copy of click, so check both)."""
    classes: list[type] = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            classes.append(importlib.import_module(module).ClickException)
        except (ImportError, AttributeError):
            continue
    return exc if classes and isinstance(exc, tuple(classes)) else None


def main(argv: list[str] | None = None) -> None:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        rc = app(args=argv, standalone_mode=False)
    except BulwarkError as exc:
        if debug:
            traceback.print_exc()
        # One line for humans, whatever the library underneath put in its message.
        typer.echo(f"error: {' '.join(logs.mask(exc.user_message).split())}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click's own usage errors and anything unexpected
        usage = _click_exception(exc)
        if usage is not None:
            usage.show()
            sys.exit(usage.exit_code)
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        if debug:
            traceback.print_exc()
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {logs.mask(str(exc))} (rerun with --debug)", err=True
        )
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
