"""What makes a generated report trustworthy: determinism, escaping, no network, atomic
output, a 'what changed' view, and a check in a real browser."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from duiding.errors import RenderError
from duiding.report import compare, describe, load_manifest, render

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = '<script>alert("evidence")</script>'
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def hostile_evidence(tmp_path_factory) -> Path:
    """A copy of the evidence base where a study's text fields contain markup."""
    ev = tmp_path_factory.mktemp("ev") / "evidence"
    shutil.copytree(ROOT / "evidence", ev)
    path = ev / "nonspecific" / "studies.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, "intervention"] = HOSTILE
    frame.loc[0, "country"] = "<b>bold</b> & co"
    frame.to_csv(path, index=False)
    return ev


@pytest.fixture(scope="module")
def two_renders(hostile_evidence, tmp_path_factory) -> tuple[Path, Path]:
    first = tmp_path_factory.mktemp("first")
    second = tmp_path_factory.mktemp("second")
    render(hostile_evidence, ROOT / "grade", first, progress=False)
    render(hostile_evidence, ROOT / "grade", second, progress=False, previous=first)
    return first, second


def _stable_html(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    html = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", "<time>", html)
    html = re.sub(r'<li><a href="#wijzigingen">.*?</li>', "", html)
    return re.sub(r'<h2 id="wijzigingen">.*?(?=<h2)', "", html, flags=re.S)


def test_two_renders_give_identical_tables_numbers_and_figures(two_renders):
    first, second = two_renders
    assert _stable_html(first / "standpunt.html") == _stable_html(second / "standpunt.html")
    from docx import Document

    a, b = Document(str(first / "standpunt.docx")), Document(str(second / "standpunt.docx"))
    assert [[c.text for c in r.cells] for t in a.tables for r in t.rows] == [
        [c.text for c in r.cells] for t in b.tables for r in t.rows
    ]
    assert _media(first / "standpunt.docx") == _media(second / "standpunt.docx")
    one, two = (json.loads((d / "manifest.json").read_text()) for d in (first, second))
    assert one["inputs"] == two["inputs"] and one["results"] == two["results"]


def _media(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("word/media/")}


def test_second_render_reports_no_changes(two_renders):
    html = (two_renders[1] / "standpunt.html").read_text(encoding="utf-8")
    section = html.split('<h2 id="wijzigingen">')[1].split("<h2")[0]
    assert "geen wijzigingen in studies, schattingen, zekerheid of conclusies" in section


def test_text_from_evidence_is_escaped_and_nothing_is_fetched(two_renders):
    html = (two_renders[0] / "standpunt.html").read_text(encoding="utf-8")
    assert HOSTILE not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#34;evidence&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert html.count("<script") == 1  # our own sort/filter script, inline
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html and "@import" not in html


def test_failed_render_leaves_the_previous_report_untouched(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    nb = json.loads((notebooks / "population.ipynb").read_text())
    nb["cells"][-1]["source"] = "raise RuntimeError('simulated failure in the analysis')"
    (notebooks / "population.ipynb").write_text(json.dumps(nb))
    out = tmp_path / "reports"
    render(ROOT / "evidence", ROOT / "grade", out, progress=False)
    (out / "notebooks" / "old.ipynb").write_text("a file of someone else's")
    monkeypatch.setenv("DUIDING_NOTEBOOKS", str(notebooks))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(RenderError, match="simulated failure in the analysis"):
        render(ROOT / "evidence", ROOT / "grade", out, progress=False)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not list(out.glob(".render-*"))


def test_diff_names_added_removed_and_moved(tmp_path, two_renders, run_cli):
    manifest = load_manifest(two_renders[0])
    changed = json.loads(json.dumps(manifest))
    pop = changed["results"]["nonspecific"]
    removed = sorted(pop["studies"])[0]
    del pop["studies"][removed]
    pop["studies"]["New2026"] = "0" * 16
    key = next(k for k, v in pop["analyses"].items() if v)
    pop["analyses"][key]["estimate"] -= 5.0
    pop["analyses"][key]["certainty"] = "high"
    pop["conclusion"]["meets"] = not pop["conclusion"]["meets"]
    diff = compare(manifest, changed)["nonspecific"]
    assert diff["studies_removed"] == [removed] and diff["studies_added"] == ["New2026"]
    assert [m["analysis"] for m in diff["estimates_moved"]] == [key]
    assert diff["certainty_changed"][0]["new"] == "high" and diff["conclusion_flipped"]
    assert any("CONCLUSIE GEWIJZIGD" in line for line in describe(compare(manifest, changed)))
    path = tmp_path / "new.json"
    path.write_text(json.dumps(changed))
    code, out, _ = run_cli("diff", str(two_renders[0]), str(path))
    assert code == 0 and f"studies verwijderd: {removed}" in out


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_report_in_a_real_browser(two_renders, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python client) is not installed")
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
    args += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        page = browser.new_page(viewport={"width": 1300, "height": 1800})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.goto((two_renders[0] / "standpunt.html").as_uri())
        assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        assert page.evaluate("document.images.length") >= 6
        anchors = page.evaluate("Array.from(document.querySelectorAll('nav.toc a')).map(a => a.getAttribute('href'))")
        assert anchors and all(page.query_selector(a) for a in anchors)
        script = "Array.from(document.querySelectorAll('#a1-studies tbody tr')).map(r => r.cells[1].textContent)"

        def column() -> list[str]:
            return page.evaluate(script)

        page.click("#a1-studies thead th:nth-child(2)")
        ascending = column()
        assert ascending == sorted(ascending, key=str.lower)
        page.click("#a1-studies thead th:nth-child(2)")
        assert column() == ascending[::-1]
        page.fill("input[data-table='a1-studies']", "Pengel")
        visible = page.evaluate(
            "Array.from(document.querySelectorAll('#a1-studies tbody tr')).filter(r => r.style.display !== 'none').length"
        )
        assert visible == 1
        assert "1 van" in page.inner_text("#a1-studies-count")
        page.screenshot(path=str(tmp_path / "standpunt.png"), full_page=False)
        browser.close()
    assert errors == []
    assert requests == []
    shot = ROOT / "reports" / "browser-check.png"
    shutil.copy(tmp_path / "standpunt.png", shot)
