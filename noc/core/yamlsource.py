"""YAML that remembers where every value came from.

PyYAML's composer gives each node a line; pydantic gives each error a location
(``("assets", 7, "snmp", "version")``). This module builds plain Python data from the node
tree and keeps a map from location to line, so every config error can name file, key path
and line. It also rejects duplicate keys (PyYAML silently keeps the last one) and expands
``${VAR}`` / ``${VAR:-default}`` from the environment, so secrets need not live in the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from noc.core.errors import InputError

Path = tuple[str | int, ...]

_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class SourceIssue:
    """One problem in a source file, located."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SourceError(InputError):
    """One or more located problems; ``str()`` prints one per line.

    ``label`` names the kind of file in the summary line the CLI prints after the issues."""

    label = "输入有误 / input invalid"

    def __init__(self, issues: list[SourceIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def format_path(path: Path) -> str:
    """``("assets", 7, "snmp", "version")`` → ``assets[7].snmp.version``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class LocatedData:
    """Plain data plus the line of every path in it."""

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """Line of ``path``, or of its nearest ancestor that exists (for a missing key)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def resolve(self, loc: tuple[Any, ...]) -> Path:
        """Map a pydantic error location onto the data, dropping union-tag parts.

        Discriminated unions put the tag into the location (``checks.1.icmp.count``); a part
        that is not a key or index of the data at that point is such a tag and is skipped,
        unless it is the last part (a missing or unknown key must stay in the message).
        """
        node, path = self.data, []
        for i, part in enumerate(loc):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
                path.append(part)
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
                path.append(part)
            elif i == len(loc) - 1 or not isinstance(node, Mapping | list):
                path.append(part)
                node = None
            # else: a union tag such as "icmp" or "function-after[...]" — skip it
        return tuple(path)

    def issue(self, path: Path, message: str) -> SourceIssue:
        return SourceIssue(self.file, self.line_of(path), format_path(path), message)


def _expand_env(value: str, file: str, line: int, path: Path, issues: list[SourceIssue]) -> str:
    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        env = os.environ.get(name)
        if env is not None and env != "":
            return env
        if default is not None:
            return default
        issues.append(
            SourceIssue(file, line, format_path(path), f"environment variable {name} is not set")
        )
        return ""

    return _ENV_RE.sub(sub, value)


def _construct(node: yaml.Node, path: Path, out: LocatedData, issues: list[SourceIssue]) -> Any:
    line = node.start_mark.line + 1
    out.lines.setdefault(path, line)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                issues.append(
                    SourceIssue(out.file, key_line, format_path(path), "keys must be strings")
                )
                continue
            child = (*path, key)
            if key in result:
                first = out.lines.get(child)
                issues.append(
                    SourceIssue(
                        out.file,
                        key_line,
                        format_path(child),
                        f"duplicate key (first at line {first})",
                    )
                )
                continue
            out.lines[child] = key_line
            result[key] = _construct(value_node, child, out, issues)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), out, issues) for i, item in enumerate(node.value)]
    # scalar: let PyYAML's resolver decide int/float/bool/null/str, then expand env vars in strings
    value = yaml.SafeLoader.construct_object(_SCALAR_LOADER, node, deep=True)
    if isinstance(value, str) and "${" in value:
        value = _expand_env(value, out.file, line, path, issues)
    return value


class _ScalarOnlyLoader(yaml.SafeLoader):
    def __init__(self) -> None:  # no stream: used only to construct scalar nodes
        yaml.SafeLoader.__init__(self, "")


_SCALAR_LOADER = _ScalarOnlyLoader()


def load_located(text: str, file: str) -> LocatedData:
    """Parse YAML ``text`` into plain data with a line for every path; raise SourceError."""
    out = LocatedData(file=file, data=None)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SourceError(
            [SourceIssue(file, line, "", f"invalid YAML: {exc.problem or exc}")]
        ) from None
    except yaml.YAMLError as exc:
        raise SourceError([SourceIssue(file, None, "", f"invalid YAML: {exc}")]) from None
    if root is None:
        raise SourceError([SourceIssue(file, 1, "", "file is empty")])
    issues: list[SourceIssue] = []
    out.data = _construct(root, (), out, issues)
    if issues:
        raise SourceError(issues)
    return out
