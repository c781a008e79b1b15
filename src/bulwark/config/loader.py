"""Load ``bulwark.yaml``: parse, validate, cross-check, and fail closed with every problem listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bulwark.config.checks import cross_references
from bulwark.config.models import BulwarkConfig
from bulwark.config.secrets import BASE_DIR_CONTEXT
from bulwark.errors import ConfigError


class ConfigProblems(ConfigError):
    """A configuration file with one or more problems; ``problems`` lists them, one per entry."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(
            f"{path}: {len(problems)} {noun}: " + "; ".join(problems), detail="\n".join(problems)
        )


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_BRANCH_TAGS = ("function-", "literal[", "lax-or-strict")


def _without_tags(loc: tuple[Any, ...], raw: Any) -> tuple[Any, ...]:
    """``loc`` without the tag a discriminated union inserts (``notifications.ops.webhook.url`` is
    ``notifications.ops.url`` in the file): a part that is not a key there but its ``kind``."""
    out: list[Any] = []
    node = raw
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("kind") == part:
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def _schema_problems(exc: ValidationError, raw: Any = None) -> list[str]:
    problems = []
    for err in exc.errors(include_url=False):
        # Union/tagged errors repeat the location with the tried branch appended; keep them short.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(_BRANCH_TAGS)))
        loc = _without_tags(loc, raw)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not allowed here; check the spelling)"
        problems.append(f"{_location(loc)}: {msg}")
    return sorted(set(problems), key=problems.index)


def parse_config(text: str, *, path: Path, base_dir: Path | None = None) -> BulwarkConfig:
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigProblems(path, [f"malformed YAML: {where}{problem}"]) from None
    if not isinstance(raw, dict):
        raise ConfigProblems(path, ["(top level): expected a mapping with networks, protocols, monitors"])
    problems: list[str] = []
    config: BulwarkConfig | None = None
    anchor = (base_dir if base_dir is not None else path.parent).resolve()
    try:
        # Relative file:/keystore: references are anchored to the configuration file's folder.
        config = BulwarkConfig.model_validate(raw, context={BASE_DIR_CONTEXT: anchor})
    except ValidationError as exc:
        problems += _schema_problems(exc, raw)
    problems += cross_references(raw)
    if config is not None:
        config._base_dir = anchor
        problems += _file_problems(config)
    if problems or config is None:
        raise ConfigProblems(path, problems)
    return config


def _file_problems(config: BulwarkConfig) -> list[str]:
    problems = []
    for pname, proto in config.protocols.items():
        for cname, contract in proto.contracts.items():
            if contract.abi is not None and contract.artifact is not None:
                problems.append(f"protocols.{pname}.contracts.{cname}: give 'abi' or 'artifact', not both")
                continue
            try:
                contract.load_abi(config.base_dir)
            except (OSError, ValueError, KeyError) as exc:
                problems.append(f"protocols.{pname}.contracts.{cname}: cannot read the ABI: {exc}")
    for mname, mon in config.monitors.items():
        if mon.indicators.file is not None:
            path = config.resolve_path(mon.indicators.file)
            if not path.is_file():
                problems.append(f"monitors.{mname}.indicators.file: {path} does not exist")
    return problems


def load_config(path: str | Path) -> BulwarkConfig:
    """Load and validate ``path``; raise :class:`ConfigProblems` listing every problem found."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigProblems(path, [f"cannot read the file: {exc.strerror or exc}"]) from None
    return parse_config(text, path=path)


def secret_problems(config: BulwarkConfig) -> list[str]:
    """Secret references that cannot be resolved now (missing variable, missing file)."""
    out = []
    for where, ref in config.secrets().items():
        problem = ref.problem()
        if problem is not None:
            out.append(f"{where}: {problem}")
    return out
