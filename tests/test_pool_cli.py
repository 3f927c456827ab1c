"""``duiding pool`` on bad input: one clear line per problem, never a traceback."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CONTINUOUS = "study,n1,m1,sd1,n2,m2,sd2\nA,20,5.0,2.0,22,6.0,2.5\nB,30,4.0,1.5,31,5.5,1.8\nC,25,3.0,2.2,24,3.1,2.0\n"
BINARY = "study,e1,n1,e2,n2\nA,3,20,6,22\nB,0,30,4,31\nC,5,25,5,24\n"


def write(tmp_path: Path, text: str, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_table_format(tmp_path, run_cli):
    args = ["--measure", "OR", "--method", "MH", "--format", "table"]
    code, out, _ = run_cli("pool", "--input", write(tmp_path, BINARY), *args)
    assert code == 0
    assert "OR · MH" in out and "weight %" in out


@pytest.mark.parametrize(
    ("text", "measure", "method", "expected"),
    [
        (CONTINUOUS.replace("sd1", "sdx"), "MD", "REML", "column 'sd1': required column is missing"),
        (
            CONTINUOUS.replace("2.0,22", "abc,22"),
            "MD",
            "REML",
            "row 1 (line 2), column 'sd1': 'abc' is not a finite number",
        ),
        (
            CONTINUOUS.replace("1.5,31", "-1.5,31"),
            "SMD",
            "DL",
            "row 2 (line 3), column 'sd1': standard deviation must be > 0",
        ),
        (CONTINUOUS.replace("C,25", "C,0"), "MD", "FE", "row 3 (line 4), column 'n1': sample size must be > 0"),
        (CONTINUOUS.replace("5.0,2.0", ",2.0"), "MD", "REML", "row 1 (line 2), column 'm1': value is empty"),
        (BINARY.replace("A,3,20", "A,30,20"), "RR", "MH", "row 1 (line 2), column 'e1': events exceed the arm size n1"),
        (BINARY.replace("B,0,30", "B,0.5,30"), "OR", "FE", "row 2 (line 3), column 'e1': counts must be whole numbers"),
        ("study,n1,m1,sd1,n2,m2,sd2\n", "MD", "REML", "no studies"),
        ("study,yi\nA,0.1\n", "GEN", "REML", "needs a 'yi' column and a 'vi' or 'sei' column"),
        ("study,yi,sei\nA,0.1,0\n", "GEN", "REML", "column 'sei': sei must be > 0"),
        (CONTINUOUS, "XYZ", "REML", "unknown measure 'XYZ'"),
        (CONTINUOUS, "MD", "BAYES", "unknown method 'BAYES'"),
        (CONTINUOUS, "MD", "MH", "method MH needs a binary measure"),
        (BINARY, "RR", "PETO", "method PETO estimates an odds ratio"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, run_cli, text, measure, method, expected):
    path = write(tmp_path, text)
    code, out, err = run_cli("pool", "--input", path, "--measure", measure, "--method", method)
    assert code != 0
    assert out == ""
    assert expected in err
    assert "Traceback" not in err
    if "row" in expected or "column" in expected:
        assert path in err


def test_all_problems_are_reported_at_once(tmp_path, run_cli):
    text = CONTINUOUS.replace("2.0,22", "abc,22").replace("C,25", "C,-1")
    code, _, err = run_cli("pool", "--input", write(tmp_path, text), "--measure", "MD", "--method", "DL")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert "column 'sd1'" in lines[0] and "column 'n1'" in lines[1]


def test_missing_file_and_missing_group_column(tmp_path, run_cli):
    code, _, err = run_cli("pool", "--input", str(tmp_path / "nope.csv"), "--measure", "MD", "--method", "DL")
    assert code == 1 and "nope.csv: file not found" in err
    path = write(tmp_path, CONTINUOUS)
    code, _, err = run_cli("pool", "--input", path, "--measure", "MD", "--method", "DL", "--by", "outcome")
    assert code == 1 and "column 'outcome': grouping column is missing" in err


def test_usage_errors_are_one_line(run_cli):
    with pytest.raises(SystemExit) as exc:
        run_cli("pool", "--measure", "MD")
    assert exc.value.code == 2


cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-5, 500).map(str),
    st.text(alphabet=string.printable.replace(",", "").replace("\n", "").replace("\r", ""), max_size=6),
    st.just(""),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    measure=st.sampled_from(["MD", "SMD", "RR", "OR", "RD", "GEN"]),
    method=st.sampled_from(["FE", "DL", "REML", "PM", "MH", "PETO"]),
    rows=st.lists(st.lists(cell, min_size=7, max_size=7), min_size=0, max_size=5),
    header=st.sampled_from(
        [
            "study,n1,m1,sd1,n2,m2,sd2,x",
            "study,e1,n1,e2,n2,yi,vi,x",
            "study,yi,sei,a,b,c,d,x",
            "a,b,c,d,e,f,g,h",
        ]
    ),
)
def test_random_input_never_gives_a_traceback(tmp_path, run_cli, measure, method, rows, header):
    body = "\n".join(",".join([f"s{i}", *r]) for i, r in enumerate(rows))
    path = write(tmp_path, header + "\n" + body + "\n", "fuzz.csv")
    code, out, err = run_cli("pool", "--input", path, "--measure", measure, "--method", method)
    assert "Traceback" not in err
    if code == 0:
        json.loads(out)
    else:
        assert err.strip() and out == ""
