"""The DOCX writer: blocks into an editable Word draft (headings, tables, figures).

The same blocks as the HTML page. Equal content gives equal bytes: core properties carry
fixed dates and the archive is rewritten with fixed entry dates.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from .blocks import Block, Bullets, Figure, Heading, Paragraph, Table

FIXED_DATE = dt.datetime(2000, 1, 1)


def write_docx(blocks: list[Block], path: str, title: str) -> None:
    """Write blocks into a Word document at ``path``."""
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    core = doc.core_properties
    core.title = title
    core.author = "duiding (concept)"
    core.created = core.modified = FIXED_DATE
    core.last_modified_by = "duiding"
    core.revision = 1
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10)
    for block in blocks:
        if isinstance(block, Heading):
            doc.add_heading(block.text, level=min(block.level, 4))
        elif isinstance(block, Paragraph):
            para = doc.add_paragraph(block.text)
            if block.style == "banner":
                for run in para.runs:
                    run.bold = True
        elif isinstance(block, Bullets):
            for item in block.items:
                doc.add_paragraph(item, style="List Bullet")
        elif isinstance(block, Table):
            _table(doc, block, Pt)
        elif isinstance(block, Figure):
            doc.add_picture(io.BytesIO(block.png), width=Cm(16))
            doc.add_paragraph(block.caption).runs[0].italic = True
    buffer = io.BytesIO()
    doc.save(buffer)
    write_reproducible_zip(buffer.getvalue(), path)


def _table(doc, block: Table, Pt) -> None:
    if block.caption:
        doc.add_paragraph(block.caption).runs[0].italic = True
    t = doc.add_table(rows=1, cols=len(block.columns))
    t.style = "Table Grid"
    for c, name in zip(t.rows[0].cells, block.columns, strict=True):
        c.text = name
        for run in c.paragraphs[0].runs:
            run.bold = True
    for row in block.rows:
        for c, value in zip(t.add_row().cells, row, strict=True):
            c.text = value
    for i, note in enumerate(block.footnotes, 1):
        doc.add_paragraph(f"{i}. {note}").runs[0].font.size = Pt(8)


def write_reproducible_zip(data: bytes, path: str) -> None:
    """Rewrite the DOCX archive with fixed entry dates, so equal content gives equal bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
