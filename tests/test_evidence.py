"""The evidence validator: the real base passes; each corrupted file is caught precisely."""

from __future__ import annotations

import hashlib
import shutil
import string
from pathlib import Path

import pandas as pd
import pytest
from conftest import edit_cell
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duiding.errors import InputError
from duiding.evidence import POPULATIONS, load_evidence, summary
from duiding.evidence.schema import SCHEMAS
from duiding.evidence.traceability import numbers_in

EVIDENCE = Path(__file__).resolve().parents[1] / "evidence"


@pytest.fixture
def copy(tmp_path) -> Path:
    target = tmp_path / "evidence"
    shutil.copytree(EVIDENCE, target)
    return target


def problems(root: Path) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_evidence(root)
    return exc.value.lines


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_real_evidence_base_passes_and_meets_the_target():
    before = tree_hash(EVIDENCE)
    report = summary(load_evidence(EVIDENCE))
    assert tree_hash(EVIDENCE) == before, "validation must never write to evidence/"
    assert report["results_without_source"] == 0
    for population in POPULATIONS:
        counts = report["populations"][population]
        assert counts["studies"] >= 8
        assert counts["studies_with_poolable_pain_or_function"] >= 7, population


@pytest.mark.parametrize(
    ("file", "column", "value", "expected"),
    [
        (
            "nonspecific/studies.csv",
            "population",
            "radicular",
            "column 'population': population 'radicular' is not this folder's",
        ),
        ("nonspecific/studies.csv", "year", "19x9", "column 'year': '19x9' is not a finite number"),
        ("radicular/studies.csv", "condition", "chronic", "column 'condition': condition for radicular must be one of"),
        (
            "postsurgery/studies.csv",
            "eligibility",
            "maybe",
            "column 'eligibility': must be one of: include, indirect, exclude",
        ),
        (
            "nonspecific/results.csv",
            "study_id",
            "Nobody1999",
            "column 'study_id': study 'Nobody1999' is not in this folder's studies.csv",
        ),
        ("nonspecific/results.csv", "outcome", "happiness", "column 'outcome': must be one of"),
        (
            "nonspecific/results.csv",
            "instrument",
            "NOPE_0_10",
            "column 'instrument': instrument 'NOPE_0_10' is not in instruments.csv",
        ),
        ("nonspecific/results.csv", "timepoint_weeks", "-3", "column 'timepoint_weeks': must be ≥ 0"),
        ("nonspecific/results.csv", "effect_definition", "sideways", "column 'effect_definition': must be one of"),
        (
            "radicular/sources.csv",
            "result_id",
            "Ghost-1",
            "column 'result_id': result 'Ghost-1' is not in this folder's results.csv",
        ),
        ("postsurgery/risk_of_bias.csv", "judgement", "terrible", "column 'judgement'"),
        ("postsurgery/review_results.csv", "effect", "abc", "column 'effect': 'abc' is not a finite number"),
        ("instruments.csv", "higher_is_better", "sometimes", "column 'higher_is_better': must be one of: yes, no"),
    ],
)
def test_corrupted_cell_is_named(copy, file, column, value, expected):
    edit_cell(copy / file, 0, column, value)
    found = problems(copy)
    assert any(expected in p and str(copy / file) in p and "row 1 (line 2)" in p for p in found), found


def _first_row(frame: pd.DataFrame, **conditions: str) -> int:
    mask = pd.Series(True, index=frame.index)
    for col, val in conditions.items():
        mask &= frame[col] == val
    return int(mask.idxmax())


def _corrupt_first(copy: Path, file: str, where: dict[str, str], column: str, value: str) -> tuple[int, list[str]]:
    """Set ``column`` of the first row matching ``where`` and return (row, problems)."""
    path = copy / file
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = _first_row(frame, **where)
    frame.loc[row, column] = value
    frame.to_csv(path, index=False)
    return row, problems(copy)


@pytest.mark.parametrize(
    ("file", "where", "column", "value", "message"),
    [
        ("nonspecific/results.csv", {"data_form": "arms_sd"}, "sd_int", "-2", "must be > 0"),
        ("radicular/results.csv", {"data_form": "events"}, "events_int", "999", "events exceed n_int"),
        (
            "nonspecific/results.csv",
            {"data_form": "effect_ci"},
            "effect_ci_high",
            "987.654",
            "987.654 does not occur in the source excerpt",
        ),
        (
            "nonspecific/results.csv",
            {"data_form": "effect_ci"},
            "instrument",
            "",
            "a value is required (only narrative rows may omit it)",
        ),
        (
            "postsurgery/results.csv",
            {"data_form": "narrative"},
            "direction",
            "",
            "a narrative result needs its direction",
        ),
        (
            "radicular/results.csv",
            {"data_form": "arms_sd"},
            "direction",
            "favours_control",
            "only narrative results carry a direction (numbers give their own)",
        ),
        ("nonspecific/results.csv", {"data_form": "narrative"}, "direction", "better", "must be one of"),
    ],
)
def test_corrupted_result_value_is_named(copy, file, where, column, value, message):
    row, found = _corrupt_first(copy, file, where, column, value)
    assert any(f"row {row + 1} (line {row + 2}), column '{column}': {message}" in p for p in found), found


def test_ci_order_and_estimate_outside_ci(copy):
    path = copy / "radicular" / "results.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = _first_row(frame, data_form="effect_ci", effect_measure="MD")
    frame.loc[row, "effect"] = str(float(frame.loc[row, "effect_ci_high"]) + 1)
    frame.to_csv(path, index=False)
    found = problems(copy)
    assert any(f"row {row + 1} (line {row + 2}), column 'effect': effect" in p and "outside its CI" in p for p in found)


def test_result_without_source_and_duplicate_result(copy):
    src = copy / "postsurgery" / "sources.csv"
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    dropped = frame.loc[0, "result_id"]
    frame.iloc[1:].to_csv(src, index=False)
    res = copy / "postsurgery" / "results.csv"
    rf = pd.read_csv(res, dtype=str, keep_default_na=False)
    dup = rf.iloc[[2]].copy()
    dup["result_id"] = "Copy-1"
    pd.concat([rf, dup]).to_csv(res, index=False)
    found = problems(copy)
    assert any("result has no row in sources.csv" in p for p in found)
    assert any("duplicate result" in p for p in found)
    row = int(rf.index[rf["result_id"] == dropped][0])
    assert any(f"row {row + 1} (line {row + 2}), column 'result_id': result has no row" in p for p in found)


def test_missing_file_missing_column_and_unknown_column(copy):
    (copy / "radicular" / "risk_of_bias.csv").unlink()
    frame = pd.read_csv(copy / "nonspecific" / "studies.csv", dtype=str, keep_default_na=False)
    frame.drop(columns=["citation"]).assign(extra="x").to_csv(copy / "nonspecific" / "studies.csv", index=False)
    found = problems(copy)
    assert any("radicular/risk_of_bias.csv: file not found" in p for p in found)
    assert any("column 'citation': required column is missing" in p for p in found)
    assert any("column 'extra': unknown column" in p for p in found)


def test_check_cli_reports_all_problems_without_traceback(copy, run_cli):
    edit_cell(copy / "nonspecific" / "studies.csv", 0, "year", "soon")
    edit_cell(copy / "radicular" / "results.csv", 0, "outcome", "mood")
    before = tree_hash(copy)
    code, out, err = run_cli("check", "--evidence", str(copy))
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) >= 2
    assert "Traceback" not in err
    assert tree_hash(copy) == before


def test_check_cli_json_summary(run_cli):
    import json

    code, out, _ = run_cli("check", "--evidence", str(EVIDENCE), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert set(report["populations"]) == set(POPULATIONS)
    assert report["results_without_source"] == 0


text = st.text(alphabet=string.printable.replace("\r", ""), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    file=st.sampled_from(list(SCHEMAS.keys() - {"instruments"})),
    population=st.sampled_from(POPULATIONS),
    values=st.lists(text, min_size=1, max_size=40),
)
def test_random_malformed_row_never_gives_a_traceback(tmp_path_factory, run_cli, file, population, values):
    root = tmp_path_factory.mktemp("fuzz") / "evidence"
    shutil.copytree(EVIDENCE, root)
    columns = list(SCHEMAS[file])
    row = dict(zip(columns, values + [""] * len(columns), strict=False))
    path = root / population / f"{file}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    pd.concat([frame, pd.DataFrame([row])]).to_csv(path, index=False)
    code, _, err = run_cli("check", "--evidence", str(root))
    assert "Traceback" not in err and "internal error" not in err
    assert code in (0, 1)


def test_numbers_in_excerpts_are_read_like_a_person_would():
    found = numbers_in("abs.2.8 (1.9 to 3.7); PT versus C: ‐.69; Twenty-seven of 43; groups of thirty")
    assert {2.8, 1.9, 3.7, 0.69, 27, 43, 30} <= found
    assert 0.2 not in found and 8.0 not in found


def test_narrative_rows_may_omit_the_instrument(copy):
    path = copy / "nonspecific" / "results.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[_first_row(frame, data_form="narrative"), "instrument"] = ""
    frame.to_csv(path, index=False)
    load_evidence(copy)  # no problem reported


def test_duplicate_ids_point_at_the_first_use(copy):
    for file in ("radicular/studies.csv", "postsurgery/results.csv", "nonspecific/sources.csv", "instruments.csv"):
        path = copy / file
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        pd.concat([frame, frame.iloc[[0]]]).to_csv(path, index=False)
    found = "\n".join(problems(copy))
    keys = {
        "radicular/studies.csv": "study_id",
        "postsurgery/results.csv": "result_id",
        "nonspecific/sources.csv": "result_id",
        "instruments.csv": "instrument",
    }
    for file, key in keys.items():
        assert f"column '{key}': {key} also used in {copy / file} row 1" in found, (file, found)
