"""Hostile input beyond the first probe (a second probe, this session): each kind is a
one-line error naming the file, never a silently different conclusion or an internal error.

Kinds: YAML 1.1 number forms (1:30 is 90, 012 is 10), misspelt or misplaced keys in the
assessor's entries, duplicate judgements, wrong types, complex keys, deep nesting, huge
integers, files that are not regular files or too large, RoB 2 overall below its worst
domain, evidence CSVs with a BOM, semicolons or a repeated column, pool input with a
repeated column, both vi and sei, or digits Python reads but a spreadsheet would not.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def inputs(tmp_path) -> Path:
    for name in ("evidence", "grade"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def check(run_cli, root: Path) -> tuple[int, list[str]]:
    code, _, err = run_cli("check", "--evidence", str(root / "evidence"), "--grade", str(root / "grade"))
    lines = [x for x in err.splitlines() if x]
    assert not any("internal error" in x for x in lines), lines
    return code, lines


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("typed", ["1:30", "012", "0xA", "1_0", "99" * 200])
def test_threshold_numbers_yaml_1_1_would_misread_are_refused(inputs, run_cli, typed):
    replace_in(inputs / "grade" / "nonspecific.yaml", "MD100: 10", f"MD100: {typed}")
    code, lines = check(run_cli, inputs)
    assert code == 1 and any("thresholds.pain.MD100: must be a finite number > 0" in x for x in lines), lines


@pytest.mark.parametrize(
    ("added", "message"),
    [
        (
            "overrides:\n  - {outcome: function, windw: long, domain: imprecision, level: -2, reason: x}\n",
            "overrides[0].windw: unknown key",
        ),
        (
            "indirectness:\n  - {outcome: pain, level: -1, reason: x, window: short}\n",
            "indirectness[0].window: unknown key",
        ),
        (
            "overrides:\n  - {outcome: pain, window: long, domain: imprecision, level: -1, reason: x}\n"
            "  - {outcome: pain, window: long, domain: imprecision, level: 0, reason: y}\n",
            "overrides[1]: judges the same outcome, window and domain as overrides[0]",
        ),
        ("certainty_needed_x: 1\n", "key 'certainty_needed_x': unknown key"),
        ("? [a, b]\n: 1\n", "a key must be a plain word or number"),
        ("deep: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 20 levels deep"),
    ],
)
def test_misspelt_misplaced_or_malformed_judgements_are_refused(inputs, run_cli, added, message):
    path = inputs / "grade" / "nonspecific.yaml"
    text = path.read_text(encoding="utf-8")
    lines = [x for x in text.splitlines(keepends=True) if not x.startswith(("overrides:", "indirectness:"))]
    path.write_text("".join(lines) + added, encoding="utf-8")
    code, out = check(run_cli, inputs)
    assert code == 1 and any(message in x for x in out), out


def test_types_where_a_word_is_expected_are_errors_not_crashes(inputs, run_cli):
    replace_in(inputs / "grade" / "nonspecific.yaml", "certainty_needed: moderate", "certainty_needed: [moderate]")
    code, out = check(run_cli, inputs)
    assert code == 1 and any("certainty_needed: must be one of" in x for x in out), out


def test_thresholds_for_an_outcome_outside_the_plan_are_refused(inputs, run_cli):
    replace_in(
        inputs / "grade" / "nonspecific.yaml", "thresholds:\n", "thresholds:\n  leg_pain: {MD100: 10, SMD: 0.5}\n"
    )
    code, out = check(run_cli, inputs)
    assert code == 1 and any("thresholds.leg_pain: not an outcome of this population's plan" in x for x in out), out


def test_rob2_overall_below_the_worst_domain_is_refused(inputs, run_cli):
    path = inputs / "grade" / "risk_of_bias" / "nonspecific.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    domains = data["ratings"]["Fritz2015"]["domains"]
    domains["missing_data"]["judgement"] = "high"
    domains["overall"]["judgement"] = "low"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, out = check(run_cli, inputs)
    assert code == 1 and any(
        "Fritz2015.domains.overall.judgement: 'low' is below the worst domain ('high')" in x for x in out
    )


def test_a_huge_yaml_file_is_refused_before_it_is_parsed(inputs, run_cli):
    path = inputs / "grade" / "nonspecific.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "#" * 2_100_000 + "\n", encoding="utf-8")
    code, out = check(run_cli, inputs)
    assert code == 1 and any("more than the 2,000,000 this file may have" in x for x in out), out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("kind", ["fifo", "dev_zero"])
def test_a_pipe_or_device_in_the_evidence_folder_is_refused_without_reading(inputs, run_cli, kind):
    path = inputs / "evidence" / "nonspecific" / "harms.csv"
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    code, out = check(run_cli, inputs)
    assert code == 1 and any("harms.csv: not a regular file" in x for x in out), out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: "\ufeff" + t, "starts with a byte-order mark (BOM)"),
        (lambda t: t.replace(",", ";"), "the header is separated by semicolons"),
        (lambda t: t.replace("\n", ",year\n", 1), "column(s) year appear more than once in the header"),
    ],
)
def test_evidence_csv_format_slips_are_named(inputs, run_cli, edit, message):
    path = inputs / "evidence" / "nonspecific" / "studies.csv"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    code, out = check(run_cli, inputs)
    assert code == 1 and any(message in x for x in out), out
    own = [x for x in out if x.startswith(f"duiding check: {path}")]
    assert len(own) == 1, own  # said once, not a missing-column error per column


def test_study_ids_keep_the_documented_form(inputs, run_cli):
    replace_in(inputs / "evidence" / "nonspecific" / "studies.csv", "\nFrost2004,", "\n../Frost2004,")
    code, out = check(run_cli, inputs)
    assert code == 1 and any("column 'study_id': must be FirstauthorYEAR" in x for x in out), out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("study,yi,vi,yi\nA,0.1,0.04,9\nB,0.2,0.05,9\n", "column(s) yi appear more than once"),
        ("study,yi,vi,sei\nA,0.1,0.04,0.9\nB,0.2,0.05,0.9\n", "give either 'vi' or 'sei', not both"),
        ("study,yi,vi\nA,1_000,0.04\nB,0.2,0.05\n", "column 'yi'"),
        ("study,yi,vi\nA,\u0663,0.04\nB,0.2,0.05\n", "column 'yi'"),
    ],
)
def test_pool_input_that_python_would_read_but_a_person_would_not_mean(tmp_path, run_cli, content, message):
    data = tmp_path / "in.csv"
    data.write_text(content, encoding="utf-8")
    code, _, err = run_cli("pool", "--input", str(data), "--measure", "GEN", "--method", "REML")
    assert code != 0 and message in err and "internal error" not in err, err


def test_mid_with_an_underscore_is_not_a_number(tmp_path, run_cli):
    data = tmp_path / "in.csv"
    data.write_text("study,yi,vi\nA,0.1,0.04\nB,0.2,0.05\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        run_cli("pool", "--input", str(data), "--measure", "GEN", "--mid", "1_0")


def test_an_unknown_population_folder_is_named_not_ignored(inputs, run_cli):
    shutil.copytree(inputs / "evidence" / "nonspecific", inputs / "evidence" / "cervical")
    code, out = check(run_cli, inputs)
    assert code == 1 and any("cervical: not a population of this assessment" in x for x in out), out
