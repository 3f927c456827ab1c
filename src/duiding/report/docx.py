"""The DOCX writer: blocks into an editable Word draft that Zorginstituut can send.

The same blocks as the HTML page, laid out for paper and for an assessor who edits in
Word: A4, Dutch as the document language (so Word spell-checks Dutch, and English for
verbatim source text), a title page, a table of contents field, numbered chapter
headings, "CONCEPT" in the header and "Pagina X van Y" in the footer, numbered captions
(SEQ fields, so Word renumbers them after edits), tables whose header row repeats and
whose rows do not split, wide tables in landscape sections, and long evidence tables
with ``layout="records"`` written as one compact block per row instead of a grid.

Equal content gives equal bytes: nothing depends on the clock (core properties carry
fixed dates, the title page shows the date it is given) and the archive is rewritten with
fixed entry dates.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from dataclasses import dataclass

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from .blocks import Block, Bullets, Figure, Heading, Paragraph, Table

FIXED_DATE = dt.datetime(2000, 1, 1)
FONT = "Calibri"  # LibreOffice substitutes the metric-compatible Carlito
LANG = "nl-NL"
LANGS = {"en": "en-GB", "nl": "nl-NL"}
DARK_BLUE = RGBColor(0x1F, 0x4E, 0x79)
CONCEPT_RED = RGBColor(0xC0, 0x00, 0x00)

# A4 and its margins; widths of text are what tables and figures are fitted to.
PAGE_W, PAGE_H = Cm(21.0), Cm(29.7)
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = Cm(2.0), Cm(2.2), Cm(2.0)
TEXT_W_CM = {"portrait": 21.0 - 4.0, "landscape": 29.7 - 4.0}
TABLE_PT = 8
CHAR_CM = 0.135  # mean width of a character of Calibri 8 pt (measured in LibreOffice's PDF), bold a little wider
CELL_PAD_CM = 0.22  # left + right cell margin
FIGURE_MAX_H_CM = 11.5  # two flow charts fit on a page
WIDE_COLUMNS = 6  # a grid with more columns than this goes landscape when it does not fit

# Chapters with these titles (and their sections) carry no number: front and back matter,
# and the appendices, whose titles carry their own letters ("Bijlage A", "A1.").
UNNUMBERED = ("Samenvatting", "Literatuur", "Colofon", "Afkortingen")
UNNUMBERED_PREFIX = "Bijlage"

# A cell that may end in footnote markers, e.g. "⊕⊕◯◯ Laag 1,2": numbers after a word.
# Which of them are markers is decided per table (:func:`footnote_markers`).
MARKERS = re.compile(r"^(.*[^\W\d_]) (\d+(?:,\d+)*)$", re.DOTALL)


def _sequence(names: str) -> tuple[str, ...]:
    return tuple(f"w:{name}" for name in names.split())


# Schema order of the children of w:rPr and w:pPr (ECMA-376 §17.3.2.28, §17.3.1.26).
RPR_SEQ = _sequence(
    "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof snapToGrid "
    "vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl cs "
    "em lang eastAsianLayout specVanish oMath"
)
PPR_SEQ = _sequence(
    "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd tabs "
    "suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi adjustRightInd "
    "snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection textAlignment "
    "textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange"
)

TOC_PLACEHOLDER = (
    "Paginanummers verschijnen na het bijwerken van deze inhoudsopgave: Word vraagt dat bij het openen, of klik "
    "erin en druk op F9 (‘Hele inhoudsopgave bijwerken’); in LibreOffice: Extra › Bijwerken › Alles bijwerken."
)
SAME_AS_ABOVE = "zelfde als in het blok hierboven"


@dataclass(frozen=True)
class TitlePage:
    """What the title page shows; all of it comes from the inputs, never from the clock."""

    title: str
    subtitle: str = ""
    status: str = "CONCEPT"
    version: str = ""
    date: str = ""


def write_docx(
    blocks: list[Block],
    path: str,
    title: str,
    *,
    subtitle: str = "",
    status: str = "CONCEPT",
    version: str = "",
    date: str = "",
) -> None:
    """Write blocks into a Word document at ``path``.

    Blocks before the first heading (the concept banner) are printed on the title page;
    ``version`` and ``date`` are shown there as given (pass the commit's date, not today,
    so equal input gives an equal file).
    """
    writer = _Writer(TitlePage(title, subtitle, status, version, date))
    first = next((i for i, x in enumerate(blocks) if isinstance(x, Heading)), len(blocks))
    writer.title_page(blocks[:first])
    writer.contents(blocks[first:])
    writer.body(blocks[first:])
    buffer = io.BytesIO()
    writer.doc.save(buffer)
    write_reproducible_zip(buffer.getvalue(), path)


# --- small XML helpers -------------------------------------------------------------------


def _w(tag: str, **attrs: str) -> OxmlElement:
    """A ``w:`` element with ``w:`` attributes (``_w("lang", val="nl-NL")``)."""
    el = OxmlElement(f"w:{tag}")
    for k, v in attrs.items():
        el.set(qn(f"w:{k}"), v)
    return el


def _put(parent, tag: str, sequence: tuple[str, ...], **attrs: str):
    """Set child ``w:tag`` of ``parent`` (replacing one that is there) in schema order,
    so Word, which rejects elements out of order, opens the file."""
    old = parent.find(qn(f"w:{tag}"))
    if old is not None:
        parent.remove(old)
    el = _w(tag, **attrs)
    later = sequence[sequence.index(f"w:{tag}") + 1 :]
    parent.insert_element_before(el, *later)
    return el


def _rpr_lang(rpr, lang: str) -> None:
    _put(rpr, "lang", RPR_SEQ, val=lang, eastAsia=lang, bidi="ar-SA")


def _rpr_font(rpr, font: str = FONT) -> None:
    _put(rpr, "rFonts", RPR_SEQ, ascii=font, hAnsi=font, eastAsia=font, cs=font)


def _run_lang(run, lang: str | None) -> None:
    if lang and lang in LANGS and LANGS[lang] != LANG:
        _rpr_lang(run._r.get_or_add_rPr(), LANGS[lang])


def _style_id(p, style_id: str) -> None:
    """Set a paragraph's style by id (no lookup by name: tables have thousands of cells)."""
    p._p.get_or_add_pPr().get_or_add_pStyle().val = style_id


def _field(paragraph, instruction: str, result: str, bold: bool = False) -> None:
    """A complex field (begin, instruction, separate, cached result, end): Word and
    LibreOffice both read it, and both show ``result`` until the field is updated."""

    _field_begin(paragraph, instruction, bold)
    paragraph.add_run(result).bold = bold or None
    _field_end(paragraph, bold)


def _field_run(paragraph, el, bold: bool = False) -> None:
    r = paragraph.add_run()
    r.bold = bold or None
    r._r.append(el)


def _field_begin(paragraph, instruction: str, bold: bool = False) -> None:
    """Begin, instruction and separator of a field; its result may span paragraphs (a TOC)."""
    _field_run(paragraph, _w("fldChar", fldCharType="begin"), bold)
    instr = _w("instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    _field_run(paragraph, instr, bold)
    _field_run(paragraph, _w("fldChar", fldCharType="separate"), bold)


def _field_end(paragraph, bold: bool = False) -> None:
    _field_run(paragraph, _w("fldChar", fldCharType="end"), bold)


# --- the writer --------------------------------------------------------------------------


class _Writer:
    def __init__(self, front: TitlePage) -> None:
        self.front = front
        self.doc = Document()
        self.counters = {"Tabel": 0, "Figuur": 0}
        self.orientation = "portrait"
        core = self.doc.core_properties
        core.title = front.title
        core.subject = front.subtitle
        core.author = "duiding (concept)"
        core.language = LANG
        core.created = core.modified = FIXED_DATE
        core.last_modified_by = "duiding"
        core.revision = 1
        self._styles()
        self._settings()
        self.heading_num = self._heading_numbering()
        self._page_setup()

    # --- document set-up ---

    def _styles(self) -> None:
        """Calibri and Dutch everywhere (defaults, Normal, headings), and the writer's own
        paragraph styles, so an assessor can restyle the whole draft from Word's style pane."""
        styles = self.doc.styles
        defaults = styles.element.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        _rpr_font(rpr)
        _rpr_lang(rpr, LANG)
        for name, size in (("Normal", 10), ("Heading 1", 16), ("Heading 2", 13), ("Heading 3", 11)):
            style = styles[name]
            style.font.size = Pt(size)
            _rpr_font(style.element.get_or_add_rPr())
            _rpr_lang(style.element.get_or_add_rPr(), LANG)
        normal = styles["Normal"].paragraph_format
        normal.space_after, normal.line_spacing = Pt(4), 1.08
        for name, before, after in (("Heading 1", 0, 8), ("Heading 2", 12, 4), ("Heading 3", 8, 2)):
            style = styles[name]
            style.font.color.rgb = DARK_BLUE
            style.paragraph_format.space_before, style.paragraph_format.space_after = Pt(before), Pt(after)
        # a chapter starts on a new page, as in Zorginstituut's own reports (and so does the
        # table of contents, whose heading is based on Heading 1 but carries no number)
        styles["Heading 1"].paragraph_format.page_break_before = True
        toc_heading = styles["TOC Heading"]
        toc_heading.paragraph_format.page_break_before = True
        num_pr = _put(toc_heading.element.get_or_add_pPr(), "numPr", PPR_SEQ)
        num_pr.append(_w("ilvl", val="0"))
        num_pr.append(_w("numId", val="0"))
        for name in ("Title", "Subtitle", "Caption", "Header", "Footer", "TOC Heading"):
            _rpr_font(styles[name].element.get_or_add_rPr())
        caption = styles["Caption"]
        caption.font.color.rgb = DARK_BLUE
        caption.font.size = Pt(9)
        caption.paragraph_format.space_before, caption.paragraph_format.space_after = Pt(6), Pt(3)
        self._para_style("Tabeltekst", TABLE_PT, after=0, line=1.0)
        self._para_style("Tabelvoetnoot", TABLE_PT, after=0, line=1.0)
        self._para_style("Record", TABLE_PT, after=0, line=1.0)
        self._para_style("Broncode", 8, after=4, line=1.0, font="Consolas")
        self._para_style("Titelpagina", 11, after=6, line=1.1)
        for level in (1, 2, 3):
            # the names Word gives its own TOC styles, so an update keeps this look
            style = self._para_style(f"toc {level}", 10 if level == 1 else 9, after=1, line=1.0)
            style.paragraph_format.left_indent = Cm(0.4 * (level - 1) + 1.1)
            style.paragraph_format.first_line_indent = Cm(-1.1)  # number, then the text at the indent
            style.element.attrib.pop(qn("w:customStyle"), None)  # Word's built-in style, not a copy
            style.element.set(qn("w:styleId"), f"TOC{level}")
            if level == 1:
                style.font.bold = True
                style.paragraph_format.space_before = Pt(4)
        self.ids = {name: styles[name].style_id for name in ("Tabeltekst", "Tabelvoetnoot", "Record")}

    def _para_style(self, name: str, size: float, after: float, line: float, font: str = FONT):
        from docx.enum.style import WD_STYLE_TYPE

        style = self.doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = self.doc.styles["Normal"]
        style.font.size = Pt(size)
        style.paragraph_format.space_before = Pt(0)
        style.paragraph_format.space_after = Pt(after)
        style.paragraph_format.line_spacing = line
        if font != FONT:
            _rpr_font(style.element.get_or_add_rPr(), font)
        return style

    def _settings(self) -> None:
        """Dutch for Word's theme fonts, and ask Word to update fields (TOC, page count)
        when the draft is opened; LibreOffice updates them on load."""
        settings = self.doc.settings.element
        lang = settings.find(qn("w:themeFontLang"))
        if lang is not None:
            lang.set(qn("w:val"), LANG)
        later = ("w:hdrShapeDefaults", "w:footnotePr", "w:endnotePr", "w:compat", "w:docVars", "w:rsids")
        later += ("m:mathPr", "w:attachedSchema", "w:themeFontLang", "w:clrSchemeMapping")
        settings.insert_element_before(_w("updateFields", val="true"), *later)

    def _heading_numbering(self) -> str:
        """A multilevel list (1, 1.1, 1.1.1) attached to Heading 1-3, so Word renumbers the
        chapters when an assessor adds or removes one. Returns the list's numId."""
        numbering = self.doc.part.numbering_part.element
        abstract_id = str(1 + max(int(a.get(qn("w:abstractNumId"))) for a in numbering.findall(qn("w:abstractNum"))))
        num_id = str(1 + max(int(n.get(qn("w:numId"))) for n in numbering.findall(qn("w:num"))))
        abstract = _w("abstractNum", abstractNumId=abstract_id)
        abstract.append(_w("multiLevelType", val="multilevel"))
        for level in range(3):
            lvl = _w("lvl", ilvl=str(level))
            lvl.append(_w("start", val="1"))
            lvl.append(_w("numFmt", val="decimal"))
            lvl.append(_w("pStyle", val=self.doc.styles[f"Heading {level + 1}"].style_id))
            lvl.append(_w("lvlText", val=".".join(f"%{i + 1}" for i in range(level + 1))))
            lvl.append(_w("lvlJc", val="left"))
            ppr = _w("pPr")
            indent = str(567 + 284 * level)  # 1 cm, 1.5 cm, 2 cm in twips
            ppr.append(_w("ind", left=indent, hanging=indent))
            lvl.append(ppr)
            abstract.append(lvl)
        first_num = numbering.find(qn("w:num"))
        first_num.addprevious(abstract)
        num = _w("num", numId=num_id)
        num.append(_w("abstractNumId", val=abstract_id))
        numbering.append(num)
        for level in range(3):
            ppr = self.doc.styles[f"Heading {level + 1}"].element.get_or_add_pPr()
            num_pr = _put(ppr, "numPr", PPR_SEQ)
            num_pr.append(_w("ilvl", val=str(level)))
            num_pr.append(_w("numId", val=num_id))
        return num_id

    def _page_setup(self) -> None:
        """A4 portrait; "CONCEPT" in the header and "Pagina X van Y" in the footer of every
        page but the title page (a different first page, left empty)."""
        section = self.doc.sections[0]
        self._geometry(section, "portrait")
        section.different_first_page_header_footer = True
        header = section.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run = header.add_run(self.front.status)
        run.bold, run.font.color.rgb, run.font.size = True, CONCEPT_RED, Pt(9)
        if self.front.subtitle:
            header.add_run(f" · {self.front.subtitle}").font.size = Pt(8)
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        footer.add_run("Pagina ")
        _field(footer, "PAGE", "1")
        footer.add_run(" van ")
        _field(footer, "NUMPAGES", "1")

    @staticmethod
    def _geometry(section, orientation: str) -> None:
        landscape = orientation == "landscape"
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (PAGE_H, PAGE_W) if landscape else (PAGE_W, PAGE_H)
        section.left_margin = section.right_margin = MARGIN_X
        section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
        section.header_distance = section.footer_distance = Cm(1.0)

    def _switch(self, orientation: str) -> None:
        """End the section and start one in ``orientation`` on a new page; the header and
        footer are inherited from the first section."""
        if orientation == self.orientation:
            return
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        section.different_first_page_header_footer = False
        self._geometry(section, orientation)
        self.orientation = orientation

    # --- title page and contents ---

    def title_page(self, leading: list[Block]) -> None:
        doc, front = self.doc, self.front
        spacer = doc.add_paragraph(style="Titelpagina")
        spacer.paragraph_format.space_before = Cm(4)
        status = doc.add_paragraph(style="Titelpagina")
        run = status.add_run(front.status)
        run.bold, run.font.size, run.font.color.rgb = True, Pt(28), CONCEPT_RED
        title = doc.add_paragraph(front.title, style="Title")
        title.paragraph_format.space_after = Pt(12)
        if front.subtitle:
            doc.add_paragraph(front.subtitle, style="Subtitle")
        meta = [("Status", front.status), ("Versie", front.version), ("Datum", front.date)]
        para = doc.add_paragraph(style="Titelpagina")
        para.paragraph_format.space_before = Cm(2)
        lines = [(k, v) for k, v in meta if v]
        for i, (key, value) in enumerate(lines):
            para.add_run(f"{key}: ").bold = True
            para.add_run(value)
            if i < len(lines) - 1:
                para.add_run().add_break()
        for block in leading:
            if isinstance(block, Paragraph):
                p = doc.add_paragraph(block.text, style="Titelpagina")
                p.paragraph_format.space_before = Cm(1)
                for r in p.runs:
                    r.bold = block.style == "banner" or None
                    _run_lang(r, block.lang)
            else:
                self.block(block)

    def contents(self, blocks: list[Block]) -> None:
        """A TOC field over Heading 1-3 with hyperlinks. Its cached result lists the headings
        with their numbers but without page numbers (only Word or LibreOffice can know
        those), with a line that says how to update it: LibreOffice shows the cached result
        as it is, Word asks to update fields on opening (``updateFields`` in the settings)."""
        self.doc.add_paragraph("Inhoud", style="TOC Heading")
        note = self.doc.add_paragraph()
        note.paragraph_format.space_after = Pt(8)
        _field_begin(note, 'TOC \\o "1-3" \\h \\z \\u')
        note.add_run(TOC_PLACEHOLDER).italic = True
        last = note
        for level, number, text in heading_numbers(blocks):
            last = self.doc.add_paragraph(style=f"toc {level}")
            last.add_run(f"{number}\t{text}" if number else text)
        _field_end(last)

    # --- the body ---

    def body(self, blocks: list[Block]) -> None:
        spans = landscape_spans(blocks)
        numbers = iter(heading_numbers(blocks))
        for i, block in enumerate(blocks):
            self._switch("landscape" if any(a <= i < z for a, z in spans) else "portrait")
            if isinstance(block, Heading):
                self.heading(block, bool(next(numbers)[1]))
            else:
                self.block(block)

    def heading(self, block: Heading, numbered: bool) -> None:
        p = self.doc.add_heading(block.text, level=heading_level(block))
        if not numbered:
            num_pr = _put(p._p.get_or_add_pPr(), "numPr", PPR_SEQ)
            num_pr.append(_w("ilvl", val="0"))
            num_pr.append(_w("numId", val="0"))

    def block(self, block: Block) -> None:
        if isinstance(block, Paragraph):
            style = "Broncode" if block.style == "code" else None
            p = self.doc.add_paragraph(block.text, style=style)
            for run in p.runs:
                run.bold = block.style == "banner" or None
                _run_lang(run, block.lang)
        elif isinstance(block, Bullets):
            for item in block.items:
                self.doc.add_paragraph(item, style="List Bullet")
        elif isinstance(block, Table):
            if block.layout == "records":
                self.records(block)
            else:
                self.grid(block)
        elif isinstance(block, Figure):
            self.figure(block)

    def caption(self, kind: str, text: str, keep_with_next: bool) -> None:
        """'Tabel 3. …' with a SEQ field, in Word's Caption style (so a list of tables works)."""
        self.counters[kind] += 1
        p = self.doc.add_paragraph(style="Caption")
        p.paragraph_format.keep_with_next = keep_with_next
        p.add_run(f"{kind} ")
        _field(p, f"SEQ {kind} \\* ARABIC", str(self.counters[kind]))
        p.add_run(f". {text}")

    def figure(self, block: Figure) -> None:
        p = self.doc.add_paragraph()
        p.paragraph_format.keep_with_next = True
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        width_cm, height_cm = figure_size(block.png, TEXT_W_CM[self.orientation])
        shape = p.add_run().add_picture(io.BytesIO(block.png), width=Cm(width_cm), height=Cm(height_cm))
        shape._inline.docPr.set("descr", block.alt)
        self.caption("Figuur", block.caption, keep_with_next=False)

    def grid(self, block: Table) -> None:
        if block.caption:
            self.caption("Tabel", block.caption, keep_with_next=True)
        widths = column_widths(block, TEXT_W_CM[self.orientation])
        header = any(block.columns)  # a table of label/value pairs (the colofon) has no header row
        t = self.doc.add_table(rows=1 if header else 0, cols=len(block.columns))
        t.style = "Table Grid"
        t.autofit = False
        tbl_pr = t._tbl.tblPr
        margins = _w("tblCellMar")
        for side in ("left", "right"):
            margins.append(_w(side, w=str(int(CELL_PAD_CM / 2 * 567)), type="dxa"))
        tbl_pr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
        grid = t._tbl.tblGrid
        for col, width in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
            col.set(qn("w:w"), str(int(width * 567)))
        marks = footnote_markers(block)
        if header:
            self._row(t.rows[0], block.columns, widths, block, {})
        for r, values in enumerate(block.rows):
            row_marks = {c: m for (rr, c), m in marks.items() if rr == r}
            self._row(t.add_row(), values, widths, block, row_marks, header=False)
        if block.footnotes:  # the footnotes stay with the table's last row, and together
            for c in t.rows[-1].cells:
                c.paragraphs[0].paragraph_format.keep_with_next = True
        for i, note in enumerate(block.footnotes, 1):
            p = self.doc.add_paragraph(style="Tabelvoetnoot")
            p.paragraph_format.keep_with_next = i < len(block.footnotes)
            p.add_run(str(i)).font.superscript = True
            p.add_run(f" {note}")
        if block.footnotes:
            p.paragraph_format.space_after = Pt(6)
        else:
            self.doc.add_paragraph().paragraph_format.space_after = Pt(0)

    def _row(
        self,
        row,
        values: list[str],
        widths: list[float],
        block: Table,
        marks: dict[int, tuple[str, str]],
        header: bool = True,
    ) -> None:
        """One table row: header rows repeat on every page; a row is kept on one page
        unless it is taller than a good part of a page (Word would clip it, not move it)."""
        tr_pr = row._tr.get_or_add_trPr()
        if row_lines(values, widths) <= 30:
            tr_pr.append(_w("cantSplit"))
        if header:
            tr_pr.append(_w("tblHeader"))
        for column, (c, value) in enumerate(zip(row.cells, values, strict=True)):
            c.width = Cm(widths[column])
            p = c.paragraphs[0]
            _style_id(p, self.ids["Tabeltekst"])
            if header:
                shade = _w("shd", val="clear", color="auto", fill="DCE6F0")
                c._tc.get_or_add_tcPr().append(shade)
                p.add_run(value).bold = True
                continue
            if column in marks:
                text, numbers = marks[column]
                _run_lang(p.add_run(text), block.lang_of(column))
                p.add_run(f" {numbers}").font.superscript = True
            else:
                _run_lang(p.add_run(value), block.lang_of(column))

    def records(self, block: Table) -> None:
        """One compact block per row, fields under each other: the short fields on one
        line, each long field (or verbatim source text) on a line of its own. A line above
        each block separates the records; a record is kept on one page where it fits."""
        if block.caption:
            self.caption("Tabel", block.caption, keep_with_next=True)
        style = self.ids["Record"]
        previous: list[str] = []
        for values in block.rows:
            short = [(c, v) for c, v in enumerate(values) if v and len(v) <= 40 and not block.lang_of(c)]
            long = [(c, v) for c, v in enumerate(values) if v and (len(v) > 40 or block.lang_of(c))]
            together = sum(len(v) for v in values) < 1200  # about ten lines: keep the block on one page
            first = self.doc.add_paragraph()
            _style_id(first, style)
            fmt = first.paragraph_format
            fmt.space_before, fmt.keep_with_next = Pt(3), bool(long)
            border = _put(first._p.get_or_add_pPr(), "pBdr", PPR_SEQ)
            border.append(_w("top", val="single", sz="4", space="2", color="9FB6CD"))
            for i, (c, v) in enumerate(short):
                first.add_run(("" if i == 0 else " · ") + f"{block.columns[c]}: ").bold = True
                first.add_run(v)
            repeated = [c for c, v in long if c < len(previous) and previous[c] == v]
            fresh = [(c, v) for c, v in long if c not in repeated]
            lines = _record_lines(block, fresh)
            if repeated:
                # long text repeated from the record just above (one source excerpt often
                # holds several results): said once, on paper
                lines.append([(", ".join(block.columns[c] for c in repeated), None)])
            for i, line in enumerate(lines):
                p = self.doc.add_paragraph()
                _style_id(p, style)
                p.paragraph_format.keep_with_next = together and i < len(lines) - 1
                for j, (name, c) in enumerate(line):
                    p.add_run(("" if j == 0 else " · ") + f"{name}: ").bold = True
                    if c is None:
                        p.add_run(SAME_AS_ABOVE).italic = True
                    else:
                        _run_lang(p.add_run(values[c]), block.lang_of(c))
            previous = values


# --- layout decisions (pure functions, tested on their own) -------------------------------


def _record_lines(block: Table, fields: list[tuple[int, str]]) -> list[list[tuple[str, int | None]]]:
    """The long fields of a record as lines: verbatim (lang) text and text over 120
    characters on a line of its own, shorter fields (an address and a location) together."""
    lines: list[list[tuple[str, int | None]]] = []
    shared: list[tuple[str, int | None]] = []
    for c, v in fields:
        if block.lang_of(c) or len(v) > 120:
            lines.append([(block.columns[c], c)])
        else:
            shared.append((block.columns[c], c))
    return ([shared] if shared else []) + lines


def heading_level(block: Heading) -> int:
    """Word's heading level: the blocks' level 2 is a chapter (Heading 1), level 3 a section."""
    return max(1, min(block.level - 1, 3))


def heading_numbers(blocks: list[Block]) -> list[tuple[int, str, str]]:
    """(Word level, number or '', text) per heading, as the numbering list will number them:
    chapters 1..n, sections 1.1, …; front and back matter and the appendices unnumbered."""
    out = []
    counters = [0, 0, 0]
    numbered = True
    for block in blocks:
        if not isinstance(block, Heading):
            continue
        level = heading_level(block)
        if level == 1:
            numbered = not (block.text in UNNUMBERED or block.text.startswith(UNNUMBERED_PREFIX))
        number = ""
        if numbered:
            counters[level - 1] += 1
            counters[level:] = [0] * (3 - level)
            number = ".".join(str(c) for c in counters[:level])
        out.append((level, number, block.text))
    return out


def _lines(text: str) -> list[str]:
    return text.split("\n") if text else [""]


def column_widths(block: Table, available_cm: float) -> list[float]:
    """Column widths in cm that fill ``available_cm``: every column gets at least its
    longest word (up to 18 characters; longer ones, such as URLs, are broken), and the
    rest goes to the columns whose text is long, in proportion to how long it typically is."""
    n = len(block.columns)
    cells = [[block.columns[c], *(row[c] for row in block.rows)] for c in range(n)]
    chars = (available_cm - n * CELL_PAD_CM) / CHAR_CM
    minimum = [min(18, max(len(w) for v in col for w in v.split() or [""])) + 1 for col in cells]
    desired = []
    for col in cells:
        lengths = sorted(max(len(line) for line in _lines(v)) for v in col)
        typical = lengths[int(0.9 * (len(lengths) - 1))]
        desired.append(max(typical, 1))
    desired = [max(d, m) for d, m in zip(desired, minimum, strict=True)]
    if sum(desired) <= chars:
        share = [d * chars / sum(desired) for d in desired]
    elif sum(minimum) >= chars:
        share = [m * chars / sum(minimum) for m in minimum]
    else:
        extra = [d - m for d, m in zip(desired, minimum, strict=True)]
        room = chars - sum(minimum)
        share = [m + room * e / sum(extra) for m, e in zip(minimum, extra, strict=True)]
    return [s * CHAR_CM + CELL_PAD_CM for s in share]


def footnote_markers(block: Table) -> dict[tuple[int, int], tuple[str, str]]:
    """{(row, column): (text, "1,2")} for the cells whose trailing numbers are footnote
    markers. GRADE numbers footnotes in the order they are first cited, so the markers, read
    row by row, must be exactly 1, 2, …, n for the n footnotes. Numbers that cannot be
    markers (0, or above n: "SMD 0,5") are content; if the rest do not run 1..n (a cell
    that ends in "RR 1,2" among them), nothing is taken for a marker."""
    if not block.footnotes:
        return {}
    found, sequence = {}, []
    for r, row in enumerate(block.rows):
        for c, value in enumerate(row):
            m = MARKERS.match(value)
            numbers = [int(x) for x in m.group(2).split(",")] if m else []
            if numbers and all(1 <= x <= len(block.footnotes) for x in numbers):
                found[(r, c)] = (m.group(1), m.group(2))
                sequence += numbers
    return found if sequence == list(range(1, len(block.footnotes) + 1)) else {}


def row_lines(values: list[str], widths_cm: list[float]) -> int:
    """How many lines the tallest cell of a row takes, roughly."""
    out = 1
    for v, w in zip(values, widths_cm, strict=True):
        per_line = max(1, int((w - CELL_PAD_CM) / CHAR_CM))
        out = max(out, sum(math.ceil(max(1, len(line)) / per_line) for line in _lines(v)))
    return out


def is_wide(block: Table) -> bool:
    """A grid of more than six columns whose text does not fit across a portrait page."""
    if block.layout != "grid" or len(block.columns) <= WIDE_COLUMNS:
        return False
    n = len(block.columns)
    words = sum(min(18, max(len(w) for w in v.split() or [""])) + 1 for v in block.columns)
    if words * CHAR_CM + n * CELL_PAD_CM > TEXT_W_CM["portrait"]:
        return True
    widths = column_widths(block, TEXT_W_CM["landscape"])
    portrait = column_widths(block, TEXT_W_CM["portrait"])
    return sum(row_lines(r, portrait) for r in block.rows) > 1.3 * sum(row_lines(r, widths) for r in block.rows)


def landscape_spans(blocks: list[Block]) -> list[tuple[int, int]]:
    """[start, end) ranges of blocks set in landscape: each wide table with the headings
    (and up to two paragraphs under them) just above it, and what follows it up to the next
    heading; spans with little text and no figure between them are merged, so the page
    does not turn back and forth."""
    spans: list[tuple[int, int]] = []
    for i, block in enumerate(blocks):
        if not (isinstance(block, Table) and is_wide(block)):
            continue
        start = i
        j = i
        while j > 0 and i - j < 2 and isinstance(blocks[j - 1], Paragraph):
            j -= 1
        if j > 0 and isinstance(blocks[j - 1], Heading):
            start = j
            while start > 0 and isinstance(blocks[start - 1], Heading):
                start -= 1
        end = i + 1
        while end < len(blocks) and not isinstance(blocks[end], Heading):
            end += 1
        if spans and (start <= spans[-1][1] or _little_between(blocks[spans[-1][1] : start])):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _little_between(gap: list[Block]) -> bool:
    if any(isinstance(x, Figure) for x in gap):
        return False
    text = 0
    for x in gap:
        if isinstance(x, Table):
            text += sum(len(v) for row in x.rows for v in row)
        elif isinstance(x, Bullets):
            text += sum(len(v) for v in x.items)
        else:
            text += len(getattr(x, "text", ""))
    return text < 2500


def figure_size(png: bytes, available_cm: float) -> tuple[float, float]:
    """Width and height in cm: the figure's own size at its resolution, no wider than the
    text and no taller than FIGURE_MAX_H_CM, so small plots are not blown up."""
    width_px, height_px = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    dpi = _png_dpi(png) or 96.0
    width = min(width_px / dpi * 2.54, available_cm, FIGURE_MAX_H_CM * width_px / height_px)
    return width, width * height_px / width_px


def _png_dpi(png: bytes) -> float | None:
    at = png.find(b"pHYs")
    if at < 0:
        return None
    per_metre = int.from_bytes(png[at + 4 : at + 8], "big")
    unit = png[at + 12]
    return per_metre * 0.0254 if unit == 1 and per_metre else None


def write_reproducible_zip(data: bytes, path: str) -> None:
    """Rewrite the DOCX archive with fixed entry dates, so equal content gives equal bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
