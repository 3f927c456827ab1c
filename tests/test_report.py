"""Rendering the draft standpunt: complete, numbers equal to the engine's, failures early."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import edit_cell

from duiding.errors import InputError
from duiding.evidence import POPULATIONS, load_evidence
from duiding.grade import assess, load_judgements, sof_table
from duiding.report import render
from duiding.report.population import ci, sof_blocks

ROOT = Path(__file__).resolve().parents[1]


def test_render_does_not_change_the_working_directory(rendered):
    assert Path.cwd().name != "notebooks"


def test_both_files_with_all_populations(rendered):
    html = (rendered / "standpunt.html").read_text(encoding="utf-8")
    assert "CONCEPT" in html
    for p in POPULATIONS:
        assert f'id="res-{p}"' in html
        assert f'id="sof-{p}"' in html
        assert f'id="concl-{p}"' in html
        section = html.split(f'id="res-{p}"')[1].split("<h2")[0]
        assert 'alt="Forest plot' in section, p
        assert "Conceptconclusie: fysio- en oefentherapie voldoe" in section
    assert (rendered / "standpunt.docx").stat().st_size > 10_000
    manifest = json.loads((rendered / "manifest.json").read_text())
    assert manifest["versions"]["numpy"] and manifest["inputs"]
    assert sorted(p.name for p in (rendered / "notebooks").iterdir()) == sorted([f"{p}.ipynb" for p in POPULATIONS])
    assert not list(rendered.glob(".render-*")), "temporary folder left behind"


def test_numbers_in_the_report_are_the_engines(rendered):
    html = (rendered / "standpunt.html").read_text(encoding="utf-8")
    ev = load_evidence(ROOT / "evidence")
    for p in POPULATIONS:
        pa = assess(ev, load_judgements(ROOT / "grade", p))
        section = html.split(f'id="res-{p}"')[1].split("<h2")[0]
        for o in pa.outcomes:
            if o.result is not None:
                assert ci(o.result) in section, (p, o.spec)
        table = sof_blocks(pa, sof_table(pa))[1]
        for row in table.rows:
            for value in row:
                assert value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in section


def test_docx_reads_back(rendered):
    from docx import Document

    doc = Document(str(rendered / "standpunt.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "Samenvatting" in headings and "Methode" in headings
    assert len(doc.tables) >= 10
    assert len(doc.inline_shapes) >= 6


def test_broken_evidence_fails_before_anything_is_written(tmp_path):
    ev = tmp_path / "evidence"
    shutil.copytree(ROOT / "evidence", ev)
    edit_cell(ev / "radicular" / "results.csv", 0, "timepoint_weeks", "soon")
    out = tmp_path / "reports"
    out.mkdir()
    (out / "standpunt.html").write_text("previous report")
    with pytest.raises(InputError) as exc:
        render(ev, ROOT / "grade", out, progress=False)
    assert "column 'timepoint_weeks': 'soon' is not a finite number" in "\n".join(exc.value.lines)
    assert (out / "standpunt.html").read_text() == "previous report"
    assert sorted(x.name for x in out.iterdir()) == ["standpunt.html"]


def test_bad_parameter_and_bad_judgements_fail_early(tmp_path, run_cli):
    code, _, err = run_cli("render", "--out", str(tmp_path / "r"), "--method", "BAYES", "--quiet")
    assert code == 1 and "parameter method: unknown 'BAYES'" in err
    assert not (tmp_path / "r").exists()
    grade = tmp_path / "grade"
    shutil.copytree(ROOT / "grade", grade)
    (grade / "postsurgery.yaml").write_text(
        (grade / "postsurgery.yaml").read_text().replace("certainty_needed: moderate", "certainty_needed: some")
    )
    code, _, err = run_cli(
        "render", "--evidence", str(ROOT / "evidence"), "--grade", str(grade), "--out", str(tmp_path / "r"), "--quiet"
    )
    assert code == 1 and "postsurgery.yaml, certainty_needed: must be one of" in err
    assert "Traceback" not in err


def test_notebooks_are_committed_without_outputs():
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), path
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path


def test_unknown_population_parameter_is_rejected():
    from duiding.report import notebook as nb

    with pytest.raises(InputError, match="parameter population: unknown 'lumbago'"):
        nb.check_parameters(population="lumbago", method="REML", test="knha")


def test_included_studies_agree_with_the_prisma_flow_and_excluded_ones_are_listed_apart():
    from duiding.evidence.summary import screening_counts
    from duiding.report.population import studies_blocks

    ev = load_evidence(ROOT / "evidence")
    for population in POPULATIONS:
        pa = assess(ev, load_judgements(ROOT / "grade", population))
        blocks = studies_blocks(ev, pa)
        table = blocks[2]
        log = ev.of("screening", population)
        included = set(log.loc[log["decision"] == "include", "study_id"])
        assert {row[0] for row in table.rows} == included, population
        assert len(table.rows) == screening_counts(log)["included_studies"]
        assert str(len(table.rows)) in blocks[1].text
        studies = ev.of("studies", population)
        excluded = set(studies.loc[studies["eligibility"] == "exclude", "study_id"])
        listed = {row[0] for row in blocks[3].rows} if len(blocks) > 3 else set()
        assert listed == excluded, population
