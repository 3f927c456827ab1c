"""Configuration shipped with the package, and the one strict YAML reader for every YAML file.

The tables here (``analysis.yaml``: the analysis plan; ``grade_rules.yaml``: the GRADE
rules; ``labels.yaml``: every Dutch label a reader sees) are read by the rooms that apply
them. The assessor's files under ``grade/`` are read with the same reader, which refuses
what a safe loader would take silently: duplicate keys (YAML keeps the last one), aliases
(an alias-expansion document can exhaust memory), and text that is not UTF-8.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode

from ..errors import InputError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases and without duplicate keys."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                problem="aliases (*name) are not allowed in these files", problem_mark=event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.MarkedYAMLError(
                    problem=f"key '{key}' appears twice in one mapping (line {seen[key] + 1} and here)",
                    problem_mark=key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text strictly; errors name the source and the line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError([f"{source}, {where}: not valid YAML ({problem})"]) from None


def read_yaml(path: Path) -> Any:
    """Read and parse a YAML file; unreadable files and invalid UTF-8 are one-line errors."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise InputError([f"{path}: is a folder, not a YAML file"]) from None
    except PermissionError:
        raise InputError([f"{path}: cannot be read (permission denied)"]) from None
    except OSError as exc:
        raise InputError([f"{path}: cannot be read ({exc.strerror or exc})"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            [f"{path}, line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); save as UTF-8"]
        ) from None
    return parse_yaml(text, str(path))


@cache
def load_config(name: str) -> dict[str, Any]:
    """One of the package's configuration tables, parsed once per process."""
    text = resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return parse_yaml(text, f"duiding/config/{name}.yaml")
