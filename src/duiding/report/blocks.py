"""Report content as typed blocks, written once and rendered to HTML and to DOCX.

A population notebook builds its section as blocks and saves them as JSON (its last
cell); ``duiding render`` reads them back and writes the same blocks into the
self-contained HTML page and the editable DOCX draft. Text is stored raw; the HTML
writer escapes it (Jinja2 autoescape), so text from evidence files is shown, never run.
``lang`` marks verbatim source text ("en") so that browsers and Word spell-check and
hyphenate it as the language it is in.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Heading:
    kind: ClassVar[str] = "heading"
    text: str
    level: int = 2
    anchor: str | None = None


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    text: str
    style: str | None = None  # "banner" for the conclusion line
    lang: str | None = None


@dataclass(frozen=True)
class Bullets:
    kind: ClassVar[str] = "list"
    items: list[str]


LAYOUTS = ("grid", "records")


@dataclass(frozen=True)
class Table:
    kind: ClassVar[str] = "table"
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    footnotes: list[str] = field(default_factory=list)
    interactive: bool = False
    table_id: str | None = None
    langs: list[str | None] = field(default_factory=list)  # per column; "en" for verbatim text
    # "grid" (rows and columns) or "records": in the DOCX one block per row with the fields
    # under each other, for tables too wide and too long for a page (the HTML keeps a grid)
    layout: str = "grid"

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"Table layout {self.layout!r}: expected one of {', '.join(LAYOUTS)}")
        object.__setattr__(self, "rows", [[cell(v) for v in row] for row in self.rows])

    def lang_of(self, column: int) -> str | None:
        return self.langs[column] if column < len(self.langs) else None


@dataclass(frozen=True)
class Figure:
    kind: ClassVar[str] = "figure"
    png: bytes
    caption: str
    alt: str

    @property
    def png_base64(self) -> str:
        return base64.b64encode(self.png).decode("ascii")


Block = Heading | Paragraph | Bullets | Table | Figure
KINDS: dict[str, type] = {c.kind: c for c in (Heading, Paragraph, Bullets, Table, Figure)}


def cell(value: Any) -> str:
    """Table cell text: missing values (None, NaN) are empty, never 'None' or 'nan'."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def to_json(blocks: list[Block]) -> list[dict[str, Any]]:
    """JSON-ready dictionaries (figures as base64), for the notebook's hand-off file."""
    out = []
    for b in blocks:
        data = asdict(b)
        if isinstance(b, Figure):
            data["png"] = b.png_base64
        out.append({"kind": b.kind, **data})
    return out


def from_json(data: list[dict[str, Any]]) -> list[Block]:
    blocks: list[Block] = []
    for item in data:
        fields = {k: v for k, v in item.items() if k != "kind"}
        cls = KINDS[item["kind"]]
        if cls is Figure:
            fields["png"] = base64.b64decode(fields["png"])
        blocks.append(cls(**fields))
    return blocks
