"""The DOCX as a document to send and to edit in Word: A4, Dutch, title page, TOC,
numbered headings, header and footer fields, captions, tables that survive page breaks,
landscape for wide tables, records for the evidence appendix, English for verbatim text;
and, through LibreOffice, A4 pages and a page count that can be printed."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from duiding.report import blocks as b
from duiding.report.docx import SAME_AS_ABOVE, footnote_markers, heading_numbers, is_wide, write_docx

ROOT = Path(__file__).resolve().parents[1]
PAGES_DIR = ROOT / "reports" / "docx-pages"
MAX_PAGES = 150
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
A4_TWIPS = ("11906", "16838")


def w(name: str) -> str:
    return f"{{{W}}}{name}"


def png(width: int = 330, height: int = 220) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG", dpi=(110, 110))
    return out.getvalue()


def small_report() -> list[b.Block]:
    """A few blocks with every feature the layout handles."""
    wide_rows = [
        [f"Studie{i}", "Nederland", "chronisch", "oefentherapie " * 8, "gebruikelijke zorg", "120"] for i in range(6)
    ]
    wide_rows = [[*row, "past binnen PICO " * 3, "laag risico op bias"] for row in wide_rows]
    wide_columns = ["Studie", "Land", "Aandoening", "Interventie", "Vergelijking", "N", "PICO", "Risico op bias"]
    return [
        b.Paragraph("CONCEPT — niet vastgesteld.", "banner"),
        b.Heading("Samenvatting", 2, "samenvatting"),
        b.Paragraph("Een samenvatting."),
        b.Heading("Inleiding", 2, "inleiding"),
        b.Heading("Aanleiding", 3),
        b.Paragraph("The authors concluded that exercise helps.", lang="en"),
        b.Table(
            ["Uitkomst", "Zekerheid"],
            [["Pijn", "⊕⊕◯◯ Laag 1,2"], ["Functioneren", "⊕⊕⊕◯ Redelijk 3"], ["SMD 0,5", "⊕⊕⊕⊕ Hoog"]],
            caption="Samenvatting van de bevindingen",
            footnotes=["Risico op bias", "Onnauwkeurigheid", "Inconsistentie"],
        ),
        b.Figure(png(), "Forest plot, pijn", "Forest plot"),
        b.Heading("Geïncludeerde studies", 3),
        b.Table(wide_columns, wide_rows, caption="Studies", table_id="studies"),
        b.Heading("Methode", 2, "methode"),
        b.Paragraph("Na de brede tabel weer staand."),
        b.Heading("Bijlage A. Evidencetabellen", 2, "bijlage-a"),
        b.Heading("A2. Resultaten met bronfragment", 3),
        b.Table(
            ["Resultaat", "Studie", "Bronfragment (letterlijk)"],
            [
                ["R1", "Studie1", "Pain improved by 12 points (95% CI 3 to 21) in the exercise group. " * 4],
                ["R2", "Studie1", "Pain improved by 12 points (95% CI 3 to 21) in the exercise group. " * 4],
            ],
            table_id="a2-results",
            langs=[None, None, "en"],
            layout="records",
        ),
    ]


def text(el: etree._Element) -> str:
    """What a reader sees: the w:t text, without field instructions."""
    return "".join(t.text or "" for t in el.iter(w("t")))


def parts(path: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(path) as z:
        return {n: etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith(".xml")}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict[str, etree._Element]:
    path = tmp_path_factory.mktemp("docx") / "klein.docx"
    write_docx(
        small_report(), str(path), "Standpunt test", subtitle="Conceptstandpunt — test", version="v1", date="1 mei 2026"
    )
    return parts(path)


def section_sizes(document: etree._Element) -> list[tuple[str, str, str | None]]:
    return [(s.get(w("w")), s.get(w("h")), s.get(w("orient"))) for s in document.iter(w("pgSz"))]


def test_a4_and_margins(small):
    sizes = section_sizes(small["word/document.xml"])
    assert sizes[0][:2] == A4_TWIPS
    assert all({x, y} == set(A4_TWIPS) for x, y, _ in sizes)
    for margin in small["word/document.xml"].iter(w("pgMar")):
        assert 1000 <= int(margin.get(w("left"))) <= 1600  # about 2 cm


def test_dutch_calibri_in_defaults_styles_and_settings(small):
    styles = small["word/styles.xml"]
    default = styles.find("w:docDefaults/w:rPrDefault/w:rPr", NS)
    assert default.find("w:lang", NS).get(w("val")) == "nl-NL"
    assert default.find("w:rFonts", NS).get(w("ascii")) == "Calibri"
    for style_id in ("Normal", "Heading1", "Heading2", "Heading3"):
        style = styles.find(f"w:style[@w:styleId='{style_id}']", NS)
        assert style.find("w:rPr/w:lang", NS).get(w("val")) == "nl-NL", style_id
    settings = small["word/settings.xml"]
    assert settings.find("w:themeFontLang", NS).get(w("val")) == "nl-NL"
    assert settings.find("w:updateFields", NS).get(w("val")) == "true"


def test_title_page_then_toc_field(small):
    body = small["word/document.xml"].find("w:body", NS)
    texts = [text(p) for p in body.iter(w("p"))]
    first_toc = next(i for i, t in enumerate(texts) if t == "Inhoud")
    front = " ".join(texts[:first_toc])
    for expected in ("CONCEPT", "Standpunt test", "Conceptstandpunt — test", "v1", "1 mei 2026", "niet vastgesteld"):
        assert expected in front
    instructions = [i.text.strip() for i in body.iter(w("instrText"))]
    assert 'TOC \\o "1-3" \\h \\z \\u' in instructions
    assert any("Inleiding" in t for t in texts[first_toc + 1 : first_toc + 8])  # cached TOC entries
    assert body.find(".//w:sectPr/w:titlePg", NS) is not None  # no header or footer on the title page


def test_header_concept_and_footer_page_fields(small):
    headers = [v for k, v in small.items() if k.startswith("word/header")]
    footers = [v for k, v in small.items() if k.startswith("word/footer")]
    assert any("CONCEPT" in text(h) for h in headers)
    fields = {i.text.strip() for f in footers for i in f.iter(w("instrText"))}
    assert {"PAGE", "NUMPAGES"} <= fields
    assert any("Pagina" in text(f) for f in footers)


def test_heading_numbering_and_unnumbered_matter(small):
    numbering = small["word/numbering.xml"]
    styled = [(lvl.find("w:pStyle", NS), lvl.find("w:lvlText", NS)) for lvl in numbering.iter(w("lvl"))]
    levels = {s.get(w("val")): t.get(w("val")) for s, t in styled if s is not None and "Heading" in s.get(w("val"))}
    assert levels == {"Heading1": "%1", "Heading2": "%1.%2", "Heading3": "%1.%2.%3"}
    style = small["word/styles.xml"].find("w:style[@w:styleId='Heading1']", NS)
    assert style.find("w:pPr/w:numPr/w:numId", NS).get(w("val")) != "0"
    body = small["word/document.xml"].find("w:body", NS)
    for p in body.iter(w("p")):
        style_el = p.find("w:pPr/w:pStyle", NS)
        if style_el is not None and style_el.get(w("val")) == "Heading1":
            title = text(p)
            num = p.find("w:pPr/w:numPr/w:numId", NS)
            unnumbered = num is not None and num.get(w("val")) == "0"
            assert unnumbered == (title in ("Samenvatting",) or title.startswith("Bijlage")), title
    numbers = [(n, t) for _, n, t in heading_numbers(small_report())]
    assert numbers[:4] == [
        ("", "Samenvatting"),
        ("1", "Inleiding"),
        ("1.1", "Aanleiding"),
        ("1.2", "Geïncludeerde studies"),
    ]
    assert ("", "A2. Resultaten met bronfragment") in numbers


def test_tables_repeat_header_keep_rows_and_use_small_type(small):
    tables = list(small["word/document.xml"].iter(w("tbl")))
    assert len(tables) == 2  # the records appendix is no grid
    for t in tables:
        rows = t.findall("w:tr", NS)
        assert rows[0].find("w:trPr/w:tblHeader", NS) is not None
        assert all(r.find("w:trPr/w:cantSplit", NS) is not None for r in rows)
        widths = [int(g.get(w("w"))) for g in t.iter(w("gridCol"))]
        assert sum(widths) <= 16838 - 2 * 1134 + 10
    style = small["word/styles.xml"].find("w:style[@w:styleId='Tabeltekst']", NS)
    assert style.find("w:rPr/w:sz", NS).get(w("val")) in ("16", "17", "18")


def test_seq_captions(small):
    body = small["word/document.xml"]
    fields = [i.text.strip() for i in body.iter(w("instrText"))]
    assert fields.count("SEQ Tabel \\* ARABIC") == 2
    assert fields.count("SEQ Figuur \\* ARABIC") == 1
    captions = [text(p) for p in body.iter(w("p")) if p.find("w:pPr/w:pStyle[@w:val='Caption']", NS) is not None]
    assert captions == ["Tabel 1. Samenvatting van de bevindingen", "Figuur 1. Forest plot, pijn", "Tabel 2. Studies"]


def test_footnote_markers_in_superscript(small):
    body = small["word/document.xml"]
    superscript = [text(r) for r in body.iter(w("r")) if r.find("w:rPr/w:vertAlign", NS) is not None]
    assert " 1,2" in superscript and " 3" in superscript  # markers in cells
    assert {"1", "2", "3"} <= set(superscript)  # the footnote list's numbers
    table = b.Table(["Zekerheid", "Opmerking"], [["Laag 1,2", "SMD 0,5"]], footnotes=["a", "b"])
    assert footnote_markers(table) == {(0, 0): ("Laag", "1,2")}
    odd = b.Table(["Zekerheid", "Opmerking"], [["Laag 1,2", "RR 1,2"]], footnotes=["a", "b"])
    assert footnote_markers(odd) == {}  # markers must run 1..n: here nothing is marked


def test_wide_table_in_landscape_section(small):
    body = small["word/document.xml"].find("w:body", NS)
    assert is_wide(next(x for x in small_report() if isinstance(x, b.Table) and x.table_id == "studies"))
    orientations = [orient for _, _, orient in section_sizes(body)]
    assert orientations.count("landscape") == 1
    # the section that ends after the wide table is the landscape one, and it holds the heading
    order = []
    for el in body:
        if el.tag == w("tbl"):
            order.append("table:" + text(el.find("w:tr", NS))[:6])
        elif el.find("w:pPr/w:sectPr", NS) is not None:
            order.append("end:" + (el.find("w:pPr/w:sectPr/w:pgSz", NS).get(w("orient")) or "portrait"))
        elif text(el) == "Geïncludeerde studies":
            order.append("heading")
    assert order == ["table:Uitkom", "end:portrait", "heading", "table:Studie", "end:landscape"]


def test_records_and_english_runs(small):
    body = small["word/document.xml"]
    paragraphs = [text(p) for p in body.iter(w("p"))]
    assert "Resultaat: R1 · Studie: Studie1" in paragraphs
    assert f"Bronfragment (letterlijk): {SAME_AS_ABOVE}" in paragraphs  # said once
    english = [text(r) for r in body.iter(w("r")) if r.find("w:rPr/w:lang[@w:val='en-GB']", NS) is not None]
    assert any(t.startswith("Pain improved") for t in english)
    assert "The authors concluded that exercise helps." in english


def test_equal_input_gives_equal_bytes(tmp_path):
    one, two = tmp_path / "1.docx", tmp_path / "2.docx"
    for path in (one, two):
        write_docx(small_report(), str(path), "Standpunt", version="v1", date="1 mei 2026")
    assert one.read_bytes() == two.read_bytes()


def test_layout_field_in_json():
    old = {"kind": "table", "columns": ["a"], "rows": [["1"]]}
    assert b.from_json([old])[0].layout == "grid"
    table = b.Table(["a"], [["1"]], layout="records")
    assert b.from_json(b.to_json([table]))[0].layout == "records"
    with pytest.raises(ValueError, match="layout"):
        b.Table(["a"], [["1"]], layout="cards")


# --- the rendered report ------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(rendered) -> dict[str, etree._Element]:
    return parts(rendered / "standpunt.docx")


def test_rendered_report_layout(report):
    body = report["word/document.xml"].find("w:body", NS)
    sizes = section_sizes(body)
    assert sizes[0][:2] == A4_TWIPS and ("16838", "11906", "landscape") in sizes
    tables = list(body.iter(w("tbl")))
    for t in tables:
        assert len(t.findall("w:tblGrid/w:gridCol", NS)) < 12  # A2 is not a 12-column grid
    headless = [t for t in tables if t.find("w:tr/w:trPr/w:tblHeader", NS) is None]
    assert len(headless) == 1 and text(headless[0].find("w:tr", NS)).startswith("Titel")  # the colofon
    paragraphs = [text(p) for p in body.iter(w("p"))]
    results = [t for t in paragraphs if t.startswith("Populatie: ") and " · Resultaat: " in t]
    excerpts = [t for t in paragraphs if "Bronfragment (letterlijk): " in t or "Bronfragment (letterlijk)" in t]
    assert len(results) > 100 and len(excerpts) == len(results)
    english = [r for r in body.iter(w("r")) if r.find("w:rPr/w:lang[@w:val='en-GB']", NS) is not None]
    assert len(english) > 100
    fields = [i.text.strip() for i in body.iter(w("instrText"))]
    assert 'TOC \\o "1-3" \\h \\z \\u' in fields and fields.count("SEQ Figuur \\* ARABIC") >= 6
    headings = [t for t in paragraphs if re.match(r"^Resultaten: ", t)]
    assert len(headings) == 3


# --- LibreOffice: A4 pages and how many ---------------------------------------------------


@pytest.fixture(scope="module")
def pdf(rendered, tmp_path_factory) -> Path:
    """The rendered DOCX converted by LibreOffice once (its own profile, so it runs as
    root and beside another conversion)."""
    missing = [tool for tool in ("soffice", "pdfinfo", "pdftoppm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (Debian: libreoffice-writer-nogui, poppler-utils)")
    out = tmp_path_factory.mktemp("pdf")
    profile = (out / "profile").as_uri()
    command = ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf"]
    subprocess.run([*command, "--outdir", str(out), str(rendered / "standpunt.docx")], check=True, timeout=600)
    return out / "standpunt.pdf"


def pdf_info(path: Path, *args: str) -> str:
    return subprocess.run(["pdfinfo", *args, str(path)], capture_output=True, text=True, check=True).stdout


def test_libreoffice_pages_are_a4_and_few_enough(pdf):
    info = pdf_info(pdf)
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    width, height = (round(float(x)) for x in re.search(r"^Page size:\s+([\d.]+) x ([\d.]+)", info, re.M).groups())
    assert (width, height) == (595, 842)
    assert pages <= MAX_PAGES, f"{pages} pages"
    # pictures of three pages for a person to look at: title page, contents, first landscape page
    sizes = re.findall(r"^Page\s+(\d+) size:\s+([\d.]+) x", pdf_info(pdf, "-f", "1", "-l", str(pages)), re.M)
    landscape = next(int(n) for n, w_pt in sizes if float(w_pt) > 700)
    PAGES_DIR.mkdir(parents=True, exist_ok=True)
    for old in PAGES_DIR.glob("page-*.png"):
        old.unlink()
    for page in (1, 2, landscape):
        prefix = PAGES_DIR / f"page-{page:03d}"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-singlefile", "-f", str(page), "-l", str(page), str(pdf), str(prefix)],
            check=True,
        )
    assert len(list(PAGES_DIR.glob("page-*.png"))) == 3
