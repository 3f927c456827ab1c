"""Report content as plain blocks (JSON-serialisable), rendered to HTML and to DOCX.

One definition of the content, two outputs: the notebooks build blocks, save them as
JSON, and the report renders the same blocks into the self-contained HTML page and the
editable DOCX draft. Text is stored raw; the HTML renderer escapes it (Jinja2
autoescape), so text from evidence files is shown, never run.
"""

from __future__ import annotations

import base64
import io
from typing import Any

Block = dict[str, Any]


def heading(text: str, level: int = 2, anchor: str | None = None) -> Block:
    return {"type": "heading", "text": text, "level": level, "anchor": anchor}


def paragraph(text: str, style: str | None = None) -> Block:
    return {"type": "paragraph", "text": text, "style": style}


def bullets(items: list[str]) -> Block:
    return {"type": "list", "items": items}


def table(
    columns: list[str],
    rows: list[list[Any]],
    caption: str = "",
    footnotes: list[str] | None = None,
    interactive: bool = False,
    table_id: str | None = None,
) -> Block:
    return {
        "type": "table",
        "columns": columns,
        "rows": [[_cell(v) for v in row] for row in rows],
        "caption": caption,
        "footnotes": footnotes or [],
        "interactive": interactive,
        "id": table_id,
    }


def _cell(value: Any) -> str:
    """Table cell text: missing values (None, NaN) are empty, never 'None' or 'nan'."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def figure(png: bytes, caption: str, alt: str) -> Block:
    return {"type": "figure", "png": base64.b64encode(png).decode("ascii"), "caption": caption, "alt": alt}


def to_docx(blocks: list[Block], path: str, title: str) -> None:
    """Write blocks into an editable Word document (headings, tables, images)."""
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    core = doc.core_properties
    core.title = title
    core.author = "duiding (concept)"
    # fixed dates: the same inputs give the same document
    import datetime as dt

    fixed = dt.datetime(2000, 1, 1)
    core.created = core.modified = fixed
    core.last_modified_by = "duiding"
    core.revision = 1
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10)
    for block in blocks:
        kind = block["type"]
        if kind == "heading":
            doc.add_heading(block["text"], level=min(block["level"], 4))
        elif kind == "paragraph":
            para = doc.add_paragraph(block["text"])
            if block.get("style") == "banner":
                for run in para.runs:
                    run.bold = True
        elif kind == "list":
            for item in block["items"]:
                doc.add_paragraph(item, style="List Bullet")
        elif kind == "table":
            if block["caption"]:
                doc.add_paragraph(block["caption"]).runs[0].italic = True
            t = doc.add_table(rows=1, cols=len(block["columns"]))
            t.style = "Table Grid"
            for cell, name in zip(t.rows[0].cells, block["columns"], strict=True):
                cell.text = name
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in block["rows"]:
                cells = t.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    cell.text = value
            for i, note in enumerate(block["footnotes"], 1):
                doc.add_paragraph(f"{i}. {note}").runs[0].font.size = Pt(8)
        elif kind == "figure":
            doc.add_picture(io.BytesIO(base64.b64decode(block["png"])), width=Cm(16))
            doc.add_paragraph(block["caption"]).runs[0].italic = True
    buffer = io.BytesIO()
    doc.save(buffer)
    _write_reproducible_zip(buffer.getvalue(), path)


def _write_reproducible_zip(data: bytes, path: str) -> None:
    """Rewrite the DOCX archive with fixed entry dates, so equal content gives equal bytes."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
