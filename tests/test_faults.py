"""Faults and hostile input: nothing lost, nothing silently wrong, one clear line.

One test per kind of fault: data loss, silently wrong conclusions, resource exhaustion,
killed and concurrent renders, user errors that must not read "internal error", and
messages that must point at the right place.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import edit_cell
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duiding.errors import InputError
from duiding.evidence import load_evidence
from duiding.grade import load_judgements
from duiding.report import load_manifest, render

ROOT = Path(__file__).resolve().parents[1]
DUIDING = [sys.executable, "-m", "duiding.cli"]
ROOT_USER = os.geteuid() == 0


def one_line_errors(err: str, file: str | None = None) -> list[str]:
    lines = [x for x in err.strip().splitlines() if x]
    assert lines, "no message"
    assert all(x.startswith("duiding ") for x in lines), lines
    assert "Traceback" not in err and "internal error" not in err, err
    if file is not None:
        assert all(file in x or x.startswith("duiding render: waiting") for x in lines), lines
    return lines


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """One real render, reused: the folder holds only what duiding wrote."""
    out = tmp_path_factory.mktemp("report")
    render(ROOT / "evidence", ROOT / "grade", out, progress=False)
    return out


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- data loss -----------------------------------------------------------------------


def test_render_into_a_folder_with_other_files_leaves_every_one_of_them_untouched(tmp_path):
    out = tmp_path / "shared"
    (out / "notebooks").mkdir(parents=True)
    theirs = {
        "notes.txt": b"an assessor's notes",
        "notebooks/analysis.ipynb": b'{"cells": []}',
        "notebooks/nonspecific-draft.ipynb": b"{}",
        ".render-mine/keep.txt": b"not a duiding folder",
    }
    for name, data in theirs.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    render(ROOT / "evidence", ROOT / "grade", out, progress=False)
    after = tree(out)
    for name, data in theirs.items():
        assert after[name] == data, name
    assert (out / "standpunt.html").is_file() and (out / "notebooks" / "nonspecific.ipynb").is_file()


def test_an_edited_or_foreign_report_file_is_never_overwritten(tmp_path, report):
    out = tmp_path / "copy"
    shutil.copytree(report, out)
    docx = out / "standpunt.docx"
    docx.write_bytes(docx.read_bytes() + b"assessor's edits")
    before = tree(out)
    with pytest.raises(InputError, match=r"standpunt\.docx: changed since duiding wrote it"):
        render(ROOT / "evidence", ROOT / "grade", out, progress=False)
    assert tree(out) == before
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "standpunt.html").write_text("someone else's page")
    with pytest.raises(InputError, match=r"standpunt\.html: exists but was not written by duiding"):
        render(ROOT / "evidence", ROOT / "grade", foreign, progress=False)
    assert (foreign / "standpunt.html").read_text() == "someone else's page"


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("evidence", "lies inside the evidence folder"),
        ("evidence/nonspecific", "lies inside the evidence folder"),
        ("grade", "lies inside the grade folder"),
        (".", "holds the evidence folder"),
        ("notebooks", "lies inside the notebooks folder"),
    ],
)
def test_output_folders_that_would_write_into_the_inputs_are_refused(tmp_path, out, message):
    repo = tmp_path / "repo"
    for name in ("evidence", "grade", "notebooks"):
        shutil.copytree(ROOT / name, repo / name)
    before = tree(repo)
    env = {**os.environ, "DUIDING_NOTEBOOKS": str(repo / "notebooks")}
    cmd = [*DUIDING, "render", "--evidence", "evidence", "--grade", "grade", "--out", out, "--quiet"]
    run = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env)
    assert run.returncode == 1 and message in run.stderr
    one_line_errors(run.stderr)
    assert tree(repo) == before


# --- silently wrong conclusions ------------------------------------------------------


@pytest.fixture
def grade_copy(tmp_path) -> Path:
    target = tmp_path / "grade"
    shutil.copytree(ROOT / "grade", target)
    return target


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "true", "yes", "'10'", "null", "0", "-10"])
def test_thresholds_must_be_finite_numbers_above_zero(grade_copy, value):
    path = grade_copy / "nonspecific.yaml"
    path.write_text(path.read_text().replace("MD100: 10", f"MD100: {value}", 1))
    with pytest.raises(InputError) as exc:
        load_judgements(grade_copy, "nonspecific")
    assert any("thresholds.pain.MD100: must be a finite number > 0" in line for line in exc.value.lines)


@pytest.mark.parametrize("mid", ["nan", "inf", "-inf", "true", "abc"])
def test_pool_mid_must_be_a_finite_number(tmp_path, run_cli, mid):
    path = tmp_path / "g.csv"
    path.write_text("study,yi,vi\nA,-1,1\nB,-2,1\n")
    with pytest.raises(SystemExit) as exc:
        run_cli("pool", "--input", str(path), "--measure", "GEN", "--method", "DL", "--mid", mid)
    assert exc.value.code == 2


def test_duplicate_keys_in_a_judgements_file_are_an_error(grade_copy):
    path = grade_copy / "radicular.yaml"
    path.write_text(path.read_text() + "certainty_needed: low\n")
    with pytest.raises(InputError, match=r"radicular.yaml, line \d+: .*'certainty_needed' appears twice"):
        load_judgements(grade_copy, "radicular")


def test_duplicate_study_labels_in_pool_input_name_both_rows(tmp_path, run_cli):
    path = tmp_path / "dup.csv"
    path.write_text("study,yi,vi,rob\nA,-1,1,low\nB,-2,1,high\nA,-3,1,some\n")
    code, out, err = run_cli("pool", "--input", str(path), "--measure", "GEN", "--method", "DL", "--mid", "1")
    assert code == 1 and out == ""
    (line,) = one_line_errors(err, str(path))
    assert "row 3 (line 4), column 'study': study label 'A' is also used in row 1 (line 2)" in line


def test_the_same_label_in_different_groups_is_allowed(tmp_path, run_cli):
    path = tmp_path / "by.csv"
    path.write_text("study,outcome,yi,vi\nA,pain,-1,1\nB,pain,-2,1\nA,function,-3,1\nB,function,-1,2\n")
    code, _, err = run_cli("pool", "--input", str(path), "--measure", "GEN", "--method", "DL", "--by", "outcome")
    assert code == 0, err


# --- resource exhaustion --------------------------------------------------------------


def test_an_alias_expansion_document_is_refused_at_once(grade_copy):
    bomb = "a: &a ['x','x','x','x','x','x','x','x','x']\n"
    for i in range(1, 12):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 9) + "]\n"
    (grade_copy / "postsurgery.yaml").write_text(bomb)
    start = time.perf_counter()
    with pytest.raises(InputError, match="aliases"):
        load_judgements(grade_copy, "postsurgery")
    assert time.perf_counter() - start < 2


def test_the_number_of_problem_lines_printed_is_capped(tmp_path):
    rows = "".join(f"s{i},x,y\n" for i in range(5000))
    path = tmp_path / "junk.csv"
    path.write_text("study,yi,vi\n" + rows)
    run = subprocess.run(
        [*DUIDING, "pool", "--input", str(path), "--measure", "GEN", "--method", "DL"], capture_output=True, text=True
    )
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 1 and len(lines) == 51
    assert lines[-1] == "duiding pool: … and 9950 more problems"


# --- killed and concurrent renders ---------------------------------------------------


def _start_render(out: Path) -> subprocess.Popen:
    cmd = [
        *DUIDING,
        "render",
        "--evidence",
        str(ROOT / "evidence"),
        "--grade",
        str(ROOT / "grade"),
        "--out",
        str(out),
        "--quiet",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_temp(out: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if list(out.glob(".render-*/notebooks")):
            return
        time.sleep(0.2)
    pytest.fail("the render did not start its temporary folder")


def test_sigterm_cleans_up_and_leaves_the_previous_report(tmp_path, report):
    out = tmp_path / "out"
    shutil.copytree(report, out)
    before = tree(out)
    proc = _start_render(out)
    _wait_for_temp(out)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "stopped (SIGTERM)" in err
    assert not list(out.glob(".render-*"))
    assert {k: v for k, v in tree(out).items() if not k.startswith(".duiding-render")} == {
        k: v for k, v in before.items() if not k.startswith(".duiding-render")
    }


def test_after_sigkill_the_next_render_removes_only_its_own_leftovers(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".render-not-ours").mkdir()
    (out / ".render-not-ours" / "data.txt").write_text("keep me")
    proc = _start_render(out)
    _wait_for_temp(out)
    proc.kill()
    proc.wait(timeout=30)
    left = [p for p in out.glob(".render-*") if p.name != ".render-not-ours"]
    assert left, "SIGKILL should leave the temporary folder behind"
    render(ROOT / "evidence", ROOT / "grade", out, progress=False)
    assert [p.name for p in out.glob(".render-*")] == [".render-not-ours"]
    assert (out / ".render-not-ours" / "data.txt").read_text() == "keep me"


def test_concurrent_renders_into_one_folder_are_serialised(tmp_path):
    out = tmp_path / "out"
    first, second = _start_render(out), _start_render(out)
    results = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, results
    assert any("waiting for another render" in err for _, err in results)
    assert json.loads((out / "manifest.json").read_text())["results"]
    assert not list(out.glob(".render-*"))


# --- user errors with one line -------------------------------------------------------


def test_unreadable_input_files_are_named(tmp_path, run_cli, monkeypatch):
    path = tmp_path / "secret.csv"
    path.write_text("study,yi,vi\nA,1,1\n")

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    code, _, err = run_cli("pool", "--input", str(path), "--measure", "GEN", "--method", "DL")
    assert code == 1 and "secret.csv: cannot be read (permission denied)" in err
    one_line_errors(err)


@pytest.mark.parametrize("kind", ["file", "below_file", "read_only"])
def test_bad_output_folders_are_one_line(tmp_path, kind):
    if kind == "read_only" and ROOT_USER:
        pytest.skip("as root every folder is writable: the read-only check cannot be exercised")
    target = tmp_path / "out"
    if kind == "file":
        target.write_text("x")
    elif kind == "below_file":
        (tmp_path / "f").write_text("x")
        target = tmp_path / "f" / "out"
    else:
        target.mkdir()
        target.chmod(0o555)
    cmd = [
        *DUIDING,
        "render",
        "--out",
        str(target),
        "--quiet",
        "--evidence",
        str(ROOT / "evidence"),
        "--grade",
        str(ROOT / "grade"),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True)
    expected = {"file": "is a file", "below_file": "lies below a file", "read_only": "permission denied"}[kind]
    assert run.returncode == 1 and expected in run.stderr
    one_line_errors(run.stderr)


def test_invalid_utf8_in_yaml_names_the_line(grade_copy):
    path = grade_copy / "nonspecific.yaml"
    path.write_bytes(path.read_bytes().replace(b"crucial_outcomes", b"crucial_\xe9outcomes", 1))
    with pytest.raises(InputError, match=r"nonspecific.yaml, line \d+: not valid UTF-8"):
        load_judgements(grade_copy, "nonspecific")


def test_non_numeric_arm_sizes_with_mid_are_named(tmp_path, run_cli):
    path = tmp_path / "n.csv"
    path.write_text("study,yi,vi,n1,n2\nA,-1,1,20,twenty\nB,-2,1,30,31\n")
    code, _, err = run_cli("pool", "--input", str(path), "--measure", "GEN", "--method", "DL", "--mid", "1")
    assert code == 1 and "row 1 (line 2), column 'n2': 'twenty' is not a finite number" in err
    one_line_errors(err)


@pytest.fixture
def evidence_copy(tmp_path) -> Path:
    target = tmp_path / "evidence"
    shutil.copytree(ROOT / "evidence", target)
    return target


def test_control_characters_in_evidence_text_are_caught_by_check(evidence_copy, run_cli):
    path = evidence_copy / "nonspecific" / "studies.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[2, "intervention"] = "exercise\x07 classes"
    frame.to_csv(path, index=False)
    code, _, err = run_cli("check", "--evidence", str(evidence_copy))
    assert code == 1 and "row 3 (line 4), column 'intervention': control character U+0007" in err


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'["a list"]',
        b'{"results": {"nonspecific": {"analyses": {"pain/short/MD100": {"k": "two"}}}}}',
        b"\xff\xfe",
        b'{"results": {"nonspecific": {"analyses": {"pain/short/MD100": {"k": 2, "estimate": NaN}}}}}',
        b'{"results": {"nonspecific": {"analyses": {"pain/short/MD100": {"k": 2, "estimate": 1, "certainty": {"x": 1}}}}}}',
        b'{"results": {"nonspecific": {"analyses": {"pain/short/MD100": {"k": 2, "estimate": 1, "studies": "Fritz"}}}}}',
    ],
)
def test_malformed_manifests_are_one_line_in_diff_and_before_any_notebook(tmp_path, run_cli, report, content):
    bad = tmp_path / "manifest.json"
    bad.write_bytes(content)
    code, _, err = run_cli("diff", str(bad), str(report))
    assert code == 1
    one_line_errors(err, str(bad))
    start = time.perf_counter()
    with pytest.raises(InputError):
        render(ROOT / "evidence", ROOT / "grade", tmp_path / "out", progress=False, previous=bad)
    assert time.perf_counter() - start < 8, "the previous manifest must be checked before the notebooks run"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("standpunt.*"))


# --- messages that point at the right place ------------------------------------------


def start_lines(path: Path) -> list[int]:
    """The physical line where each data row of a CSV file starts."""
    reader = csv.reader(io.StringIO(path.read_text()))
    next(reader)
    starts, line = [], reader.line_num + 1
    for _ in reader:
        starts.append(line)
        line = reader.line_num + 1
    return starts


def test_line_numbers_count_physical_lines_in_multiline_fields(evidence_copy):
    path = evidence_copy / "postsurgery" / "risk_of_bias.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = len(frame) - 1  # the last row comes after several quoted multi-line excerpts
    frame.loc[row, "tool"] = "RoB9"
    frame.to_csv(path, index=False)
    line = start_lines(path)[row]
    assert line != row + 2, "this file must have multi-line fields for the test to mean something"
    with pytest.raises(InputError) as exc:
        load_evidence(evidence_copy)
    found = [x for x in exc.value.lines if "risk_of_bias.csv" in x and "column 'tool'" in x]
    assert found and f"row {row + 1} (line {line})" in found[0], found


def test_encoding_errors_give_the_line(evidence_copy):
    path = evidence_copy / "radicular" / "studies.csv"
    data = path.read_bytes().split(b"\n")
    data[3] = data[3].replace(b",", b",\xff", 1)
    path.write_bytes(b"\n".join(data))
    with pytest.raises(InputError, match=r"radicular/studies.csv: line 4: not valid UTF-8"):
        load_evidence(evidence_copy)


@pytest.mark.parametrize(
    ("target", "message"), [("folder", "is a folder, not a CSV file"), ("/dev/null", "is not a regular file")]
)
def test_a_folder_or_a_device_as_input_is_named_for_what_it_is(tmp_path, run_cli, target, message):
    path = str(tmp_path) if target == "folder" else target
    code, _, err = run_cli("pool", "--input", path, "--measure", "GEN", "--method", "DL")
    assert code == 1 and message in err


def test_dutch_spreadsheet_exports_are_read_and_said(tmp_path, run_cli):
    dutch = tmp_path / "nl.csv"
    dutch.write_text("study;yi;vi\nA;-1,5;0,25\nB;-2,25;0,5\n")
    plain = tmp_path / "en.csv"
    plain.write_text("study,yi,vi\nA,-1.5,0.25\nB,-2.25,0.5\n")
    code, out_nl, err = run_cli("pool", "--input", str(dutch), "--measure", "GEN", "--method", "DL")
    assert code == 0 and "semicolon-separated with decimal commas (2 rows)" in err
    _, out_en, _ = run_cli("pool", "--input", str(plain), "--measure", "GEN", "--method", "DL")
    assert json.loads(out_nl)["estimate"] == json.loads(out_en)["estimate"]
    ambiguous = tmp_path / "amb.csv"
    ambiguous.write_text("study;yi;vi\nA;1.234,5;0,25\nB;-2;0,5\n")
    code, _, err = run_cli("pool", "--input", str(ambiguous), "--measure", "GEN", "--method", "DL")
    assert code == 1 and "'1.234,5' is not a finite number (this file uses decimal commas)" in err


def test_the_docx_is_byte_identical_across_renders(tmp_path, report):
    again = tmp_path / "again"
    render(ROOT / "evidence", ROOT / "grade", again, progress=False)
    assert (again / "standpunt.docx").read_bytes() == (report / "standpunt.docx").read_bytes()


def test_load_manifest_reads_a_report_folder(report):
    assert load_manifest(report)["results"]


# --- the property: mutated evidence is OK or one-line errors naming the file -----------

FILES = ["studies", "results", "sources", "risk_of_bias", "review_results", "harms", "reported_outcomes", "screening"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    file=st.sampled_from(FILES),
    population=st.sampled_from(["nonspecific", "radicular", "postsurgery"]),
    mutation=st.sampled_from(
        ["cell", "delete_row", "duplicate_row", "drop_column", "truncate", "garbage_bytes", "empty"]
    ),
    value=st.text(max_size=12),
    seed=st.integers(0, 10_000),
)
def test_any_mutation_of_an_evidence_file_is_ok_or_one_line_errors_naming_the_file(
    tmp_path_factory, run_cli, file, population, mutation, value, seed
):
    root = tmp_path_factory.mktemp("mutated") / "evidence"
    shutil.copytree(ROOT / "evidence", root)
    path = root / population / f"{file}.csv"
    data = path.read_bytes()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if mutation == "cell" and len(frame):
        frame.iloc[seed % len(frame), seed % frame.shape[1]] = value
        frame.to_csv(path, index=False)
    elif mutation == "delete_row" and len(frame):
        frame.drop(index=frame.index[seed % len(frame)]).to_csv(path, index=False)
    elif mutation == "duplicate_row" and len(frame):
        pd.concat([frame, frame.iloc[[seed % len(frame)]]]).to_csv(path, index=False)
    elif mutation == "drop_column":
        frame.drop(columns=frame.columns[seed % frame.shape[1]]).to_csv(path, index=False)
    elif mutation == "truncate":
        path.write_bytes(data[: seed % max(len(data), 1)])
    elif mutation == "garbage_bytes":
        cut = seed % max(len(data), 1)
        path.write_bytes(data[:cut] + value.encode("utf-16", "surrogatepass")[:7] + data[cut:])
    elif mutation == "empty":
        path.write_bytes(b"")
    code, _, err = run_cli("check", "--evidence", str(root))
    if code != 0:
        assert code == 1
        lines = one_line_errors(err)
        assert any(str(root) in line for line in lines), lines


def test_a_line_break_inside_a_cell_value_stays_escaped_in_its_one_line_message(tmp_path, run_cli):
    """Found by the mutation property test: a quoted cell '0<newline>0' split the message."""
    evidence = tmp_path / "evidence"
    shutil.copytree(ROOT / "evidence", evidence)
    path = evidence / "nonspecific" / "studies.csv"
    edit_cell(path, 1, "population", "0\n0")
    code, _, err = run_cli("check", "--evidence", str(evidence), "--grade", str(ROOT / "grade"))
    assert code != 0
    lines = [x for x in err.splitlines() if x]
    assert all(x.startswith(f"duiding check: {path}, row 2 (line 3), column 'population': ") for x in lines), err
    assert any("population '0\\n0' is not this folder's" in x for x in lines), err
