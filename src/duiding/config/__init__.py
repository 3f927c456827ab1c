"""Configuration shipped with the package, and the one strict YAML reader for every YAML file.

The tables here (``analysis.yaml``: the analysis plan; ``grade_rules.yaml``: the GRADE
rules; ``labels.yaml``: every Dutch label a reader sees) are read by the rooms that apply
them. The assessor's files under ``grade/`` are read with the same reader, which refuses
what a safe loader would take silently: duplicate keys (YAML keeps the last one), aliases
(an alias-expansion document can exhaust memory), and text that is not UTF-8.
"""

from __future__ import annotations

import re
import stat
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode

from ..errors import InputError

MAX_BYTES = 2_000_000  # an assessor's file is a few kilobytes; more is a mistake or an attack
MAX_DEPTH = 20  # the deepest real structure is four levels

# Numbers as YAML 1.2 writes them. YAML 1.1 (PyYAML's default) also reads 1:30 as 90
# (base 60), 012 as 10 (octal), 0xA and 1_0 as 10: a threshold typed like that would be
# taken silently as another number. Here such text stays a string, which the checks refuse.
INT_1_2 = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
FLOAT_1_2 = re.compile(
    r"^[-+]?(\.[0-9]+|(0|[1-9][0-9]*)(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"  # 0.5, .5, 1e3; not 012
    r"|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$"  # read, then refused where a number must be finite
)
NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases, duplicate or complex keys, deep nesting and YAML 1.1's
    number forms."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[Any]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in NUMBER_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                problem="aliases (*name) are not allowed in these files", problem_mark=event.start_mark
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()
                raise yaml.MarkedYAMLError(
                    problem=f"nested more than {MAX_DEPTH} levels deep", problem_mark=event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.MarkedYAMLError(
                    problem="a key must be a plain word or number, not a list or mapping",
                    problem_mark=key_node.start_mark,
                )
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.MarkedYAMLError(
                    problem=f"key '{key}' appears twice in one mapping (line {seen[key] + 1} and here)",
                    problem_mark=key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


for _tag, _regexp, _first in (
    ("tag:yaml.org,2002:int", INT_1_2, list("-+0123456789")),
    ("tag:yaml.org,2002:float", FLOAT_1_2, list("-+.0123456789")),
):
    _StrictLoader.add_implicit_resolver(_tag, _regexp, _first)


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
    regular_file(path, MAX_BYTES)
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


def regular_file(path: Path, max_bytes: int | None = None) -> None:
    """Refuse, before reading, what is not a regular file of a sensible size: a FIFO would
    block forever, /dev/zero would fill the memory."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError([f"{path}: file not found"]) from None
    except OSError as exc:
        raise InputError([f"{path}: cannot be read ({exc.strerror or exc})"]) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError([f"{path}: is a folder, not a file"])
    if not stat.S_ISREG(info.st_mode):
        raise InputError([f"{path}: not a regular file (a device, pipe or socket); give a file"])
    if max_bytes is not None and info.st_size > max_bytes:
        raise InputError([f"{path}: {info.st_size:,} bytes, more than the {max_bytes:,} this file may have"])


@cache
def load_config(name: str) -> dict[str, Any]:
    """One of the package's configuration tables, parsed once per process."""
    text = resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return parse_yaml(text, f"duiding/config/{name}.yaml")
