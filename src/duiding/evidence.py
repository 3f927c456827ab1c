"""Loading and validating the evidence base (``evidence/``), read-only.

Column-level rules (types, codes, bounds, required, unique) come from the declarations in
:mod:`duiding.evidence_schema` and run through pandera, which reports every failing cell
at once. Rules that span rows or files (keys, required columns per data form, CI order,
duplicates, sources) are checked here. Every problem names file, row and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .evidence_schema import (
    ARM_FIELDS,
    CONDITIONS,
    POPULATION_FILES,
    POPULATIONS,
    REQUIRED_BY_FORM,
    ROB_DOMAINS,
    ROB_JUDGEMENTS,
    SCHEMAS,
    Col,
)
from .inputs import InputError, locate
from .traceability import is_traced, numbers_in

POOLABLE_FORMS = ("arms_sd", "arms_se", "arms_ci", "effect_ci", "effect_se", "events")
PAIN_FUNCTION = ("pain", "back_pain", "leg_pain", "function")
RESULT_KEY = (
    "study_id", "comparison", "outcome", "instrument", "timepoint_weeks", "timepoint_note",
    "value_type", "data_form", "adjusted",
)  # fmt: skip


@dataclass(frozen=True)
class EvidenceBase:
    """All tables, populations stacked; ``_file`` and ``_row`` say where each row came from."""

    root: Path
    instruments: pd.DataFrame
    studies: pd.DataFrame
    results: pd.DataFrame
    sources: pd.DataFrame
    risk_of_bias: pd.DataFrame
    review_results: pd.DataFrame
    harms: pd.DataFrame
    reported_outcomes: pd.DataFrame
    screening: pd.DataFrame

    def files(self) -> list[Path]:
        """Every input file, for hashing in the report's reproducibility appendix."""
        out = [self.root / "instruments.csv"]
        out += [self.root / p / f"{f}.csv" for p in POPULATIONS for f in POPULATION_FILES]
        return out


class _Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, file: str, message: str, row: int | None = None, column: str | None = None) -> None:
        self.lines.append(f"{locate(file, row, column)}: {message}")


def load_evidence(root: str | Path) -> EvidenceBase:
    """Read and validate the whole evidence base; raise InputError listing every problem."""
    root = Path(root)
    problems = _Problems()
    if not root.is_dir():
        problems.add(str(root), "evidence folder not found")
        raise InputError(problems.lines)
    tables: dict[str, list[pd.DataFrame]] = {name: [] for name in SCHEMAS}
    tables["instruments"].append(_read(root / "instruments.csv", "instruments", problems))
    for population in POPULATIONS:
        for name in POPULATION_FILES:
            frame = _read(root / population / f"{name}.csv", name, problems)
            frame["_population"] = population
            tables[name].append(frame)
    stacked = {name: pd.concat(frames, ignore_index=True) for name, frames in tables.items()}
    for name, frame in stacked.items():  # one schema run per table type, all populations at once
        _run_schema(frame, SCHEMAS[name], problems)
    evidence = EvidenceBase(root=root, **stacked)
    _check_cross_file(evidence, problems)
    if problems.lines:
        raise InputError(problems.lines)
    return evidence


def _read(path: Path, name: str, problems: _Problems) -> pd.DataFrame:
    """Read one file as text and convert its typed columns (the schema runs on the stack)."""
    schema = SCHEMAS[name]
    empty = pd.DataFrame(
        {c: pd.Series(dtype=float if s.kind in ("number", "integer") else object) for c, s in schema.items()}
    )
    empty["_file"], empty["_row"] = pd.Series(dtype=object), pd.Series(dtype=int)
    if not path.is_file():
        problems.add(str(path), "file not found")
        return empty
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        problems.add(str(path), f"not a readable UTF-8 CSV file ({str(exc).strip().splitlines()[0]})")
        return empty
    missing = [c for c in schema if c not in raw.columns]
    for col in missing:
        problems.add(str(path), "required column is missing", column=col)
    for col in raw.columns:
        if col not in schema:
            problems.add(str(path), "unknown column (see evidence/README.md)", column=col)
    if missing:
        return empty
    frame = raw[list(schema)].copy()
    for col, spec in schema.items():
        frame[col] = _convert(frame[col], spec, str(path), col, problems)
    frame["_file"] = str(path)
    frame["_row"] = np.arange(len(frame))
    return frame


def _convert(values: pd.Series, spec: Col, file: str, col: str, problems: _Problems) -> pd.Series:
    text = values.str.strip()
    if spec.kind in ("text", "code"):
        return text.where(text != "", None)
    numbers = pd.to_numeric(text.where(text != "", None), errors="coerce")
    bad = (text != "") & ~np.isfinite(numbers.astype(float))
    for row in np.flatnonzero(bad):
        problems.add(file, f"'{text.iloc[row]}' is not a number", row=int(row), column=col)
    if spec.kind == "integer":
        frac = numbers.notna() & (numbers != numbers.round())
        for row in np.flatnonzero(frac):
            problems.add(file, f"{numbers.iloc[row]} is not a whole number", row=int(row), column=col)
    return numbers.astype(float)


def _run_schema(frame: pd.DataFrame, schema: dict[str, Col], problems: _Problems) -> None:
    """Types, codes, bounds and required values per column; uniqueness is checked with the
    keys across files (``_duplicates``), which also points at the first occurrence."""
    import pandera.pandas as pa  # imported here: it is slow to import and only needed to check

    columns = {}
    for col, spec in schema.items():
        checks = []
        if spec.codes:
            checks.append(pa.Check.isin(spec.codes, error=f"must be one of: {', '.join(spec.codes)}"))
        if spec.minimum is not None:
            op = pa.Check.gt if spec.exclusive_min else pa.Check.ge
            sign = ">" if spec.exclusive_min else "≥"
            checks.append(op(spec.minimum, error=f"must be {sign} {spec.minimum:g}"))
        if spec.maximum is not None:
            checks.append(pa.Check.le(spec.maximum, error=f"must be ≤ {spec.maximum:g}"))
        dtype = float if spec.kind in ("number", "integer") else object
        columns[col] = pa.Column(dtype, checks=checks, nullable=not spec.required)
    try:
        pa.DataFrameSchema(columns).validate(frame[list(schema)], lazy=True)
    except pa.errors.SchemaErrors as exc:
        for case in exc.failure_cases.itertuples():
            if case.index is None or pd.isna(case.index):
                continue
            file, row = _where(frame, int(case.index))
            check = str(case.check)
            message = "a value is required" if check == "not_nullable" else f"{check} (got '{case.failure_case}')"
            problems.add(file, message, row=row, column=str(case.column))


def _where(frame: pd.DataFrame, idx: Any) -> tuple[str, int]:
    return str(frame.at[idx, "_file"]), int(frame.at[idx, "_row"])


def _check_cross_file(ev: EvidenceBase, problems: _Problems) -> None:
    for name, schema in SCHEMAS.items():  # declared unique columns, across all populations
        for key in (c for c, spec in schema.items() if spec.unique):
            _duplicates(getattr(ev, name), [key], problems, key, f"{key} also used in")
    _check_instruments(ev.instruments, problems)
    _check_studies(ev.studies, problems)
    _check_results(ev, problems)
    _check_sources(ev, problems)
    _check_traceability(ev, problems)
    _check_risk_of_bias(ev, problems)
    _check_reviews(ev.review_results, problems)


def _check_instruments(frame: pd.DataFrame, problems: _Problems) -> None:
    for idx, r in frame.iterrows():
        file, row = _where(frame, idx)
        lo, hi = r["scale_min"], r["scale_max"]
        if pd.notna(lo) and pd.notna(hi) and lo >= hi:
            problems.add(file, "scale_min must be below scale_max", row, "scale_min")
        if r["rescale_to_100"] == "yes" and (pd.isna(lo) or pd.isna(hi)):
            problems.add(file, "rescale_to_100 needs scale_min and scale_max", row, "rescale_to_100")


def _check_studies(frame: pd.DataFrame, problems: _Problems) -> None:
    for idx, r in frame.iterrows():
        file, row = _where(frame, idx)
        folder = r["_population"]
        if pd.notna(r["population"]) and r["population"] != folder:
            problems.add(
                file,
                f"population '{r['population']}' is not this folder's ({folder})",
                row,
                "population",
            )
        if pd.notna(r["condition"]) and r["condition"] not in CONDITIONS[folder]:
            allowed = ", ".join(CONDITIONS[folder])
            problems.add(file, f"condition for {folder} must be one of: {allowed}", row, "condition")
        if r["eligibility"] in ("indirect", "exclude") and pd.isna(r["eligibility_note"]):
            problems.add(file, f"eligibility '{r['eligibility']}' needs a reason", row, "eligibility_note")


def _check_study_key(frame: pd.DataFrame, studies: set[tuple[str, str]], problems: _Problems) -> None:
    """Every row's study must exist in the same population's studies.csv."""
    for idx, r in frame.iterrows():
        if pd.notna(r["study_id"]) and (r["_population"], r["study_id"]) not in studies:
            file, row = _where(frame, idx)
            problems.add(file, f"study '{r['study_id']}' is not in this folder's studies.csv", row, "study_id")


def _check_results(ev: EvidenceBase, problems: _Problems) -> None:
    res = ev.results
    studies = set(zip(ev.studies["_population"], ev.studies["study_id"], strict=True))
    instruments = set(ev.instruments["instrument"].dropna())
    _check_study_key(res, studies, problems)
    for idx, r in res.iterrows():
        file, row = _where(res, idx)
        if pd.isna(r["instrument"]) and r["data_form"] in REQUIRED_BY_FORM and r["data_form"] != "narrative":
            problems.add(file, "a value is required (only narrative rows may omit it)", row, "instrument")
        elif pd.notna(r["instrument"]) and r["instrument"] not in instruments:
            problems.add(file, f"instrument '{r['instrument']}' is not in instruments.csv", row, "instrument")
        _check_result_numbers(r, file, row, problems)
    same = "duplicate result (same study, comparison, outcome, instrument, time, type, form) as"
    _duplicates(res, list(RESULT_KEY), problems, "study_id", same)


def _check_result_numbers(r: pd.Series, file: str, row: int, problems: _Problems) -> None:
    form = r["data_form"]
    if form not in REQUIRED_BY_FORM:  # missing or unknown: reported by the schema
        return
    for field in REQUIRED_BY_FORM[form]:
        cols = [f"{field}_int", f"{field}_ctl"] if field in ARM_FIELDS else [field]
        for col in cols:
            if pd.isna(r[col]):
                problems.add(file, f"data_form '{form}' needs a value here", row, col)
    if form.startswith("effect"):
        for col in ("effect_measure", "effect_definition"):
            if pd.isna(r[col]):
                problems.add(file, f"data_form '{form}' needs {col}", row, col)
        ratio = r["effect_measure"] in ("RR", "OR", "HR")
        if ratio and r["effect_definition"] not in (None, "int_over_ctl"):
            problems.add(file, "a ratio needs effect_definition int_over_ctl", row, "effect_definition")
        if not ratio and r["effect_definition"] == "int_over_ctl":
            problems.add(file, "int_over_ctl is for ratios (RR, OR, HR)", row, "effect_definition")
        if ratio:
            for col in ("effect", "effect_ci_low", "effect_ci_high"):
                if pd.notna(r[col]) and r[col] <= 0:
                    problems.add(file, "a ratio must be > 0", row, col)
        _check_order(r, "effect_ci_low", "effect", "effect_ci_high", file, row, problems)
    for arm in ("int", "ctl"):
        _check_order(r, f"ci_low_{arm}", f"mean_{arm}", f"ci_high_{arm}", file, row, problems)
        n, e = r[f"n_{arm}"], r[f"events_{arm}"]
        if pd.notna(n) and pd.notna(e) and e > n:
            problems.add(file, f"events exceed n_{arm}", row, f"events_{arm}")


def _check_order(r: pd.Series, lo: str, mid: str, hi: str, file: str, row: int, problems: _Problems) -> None:
    a, m, b = r[lo], r[mid], r[hi]
    if pd.notna(a) and pd.notna(b) and a > b:
        problems.add(file, f"{lo} ({a:g}) is above {hi} ({b:g})", row, lo)
    elif pd.notna(a) and pd.notna(b) and pd.notna(m) and not a <= m <= b:
        problems.add(file, f"{mid} ({m:g}) lies outside its CI ({a:g} to {b:g})", row, mid)


def _check_sources(ev: EvidenceBase, problems: _Problems) -> None:
    src = ev.sources
    results = set(zip(ev.results["_population"], ev.results["result_id"], strict=True))
    sourced = set(zip(src["_population"], src["result_id"], strict=True))
    for idx, r in src.iterrows():
        file, row = _where(src, idx)
        if pd.notna(r["result_id"]) and (r["_population"], r["result_id"]) not in results:
            problems.add(
                file,
                f"result '{r['result_id']}' is not in this folder's results.csv",
                row,
                "result_id",
            )
    res = ev.results
    for idx, r in res.iterrows():
        if pd.notna(r["result_id"]) and (r["_population"], r["result_id"]) not in sourced:
            file, row = _where(res, idx)
            problems.add(file, "result has no row in sources.csv", row, "result_id")


def traced_columns() -> list[str]:
    """Numeric result columns that must occur in the excerpt (time points are coded)."""
    arms = [f"{f}_{arm}" for arm in ("int", "ctl") for f in ARM_FIELDS]
    return [*arms, "effect", "effect_ci_low", "effect_ci_high", "effect_se"]


def _check_traceability(ev: EvidenceBase, problems: _Problems) -> None:
    excerpts = {
        (p, rid): str(x)
        for p, rid, x in zip(ev.sources["_population"], ev.sources["result_id"], ev.sources["excerpt"], strict=True)
        if pd.notna(x)
    }
    res = ev.results
    columns = traced_columns()
    for idx, r in res.iterrows():
        excerpt = excerpts.get((r["_population"], r["result_id"]))
        if excerpt is None:
            continue  # reported as a result without source
        numbers = numbers_in(excerpt)
        for col in columns:
            value = r[col]
            if pd.notna(value) and not is_traced(float(value), numbers):
                file, row = _where(res, idx)
                problems.add(file, f"{value:g} does not occur in the source excerpt", row, col)


def _check_risk_of_bias(ev: EvidenceBase, problems: _Problems) -> None:
    rob = ev.risk_of_bias
    studies = set(zip(ev.studies["_population"], ev.studies["study_id"], strict=True))
    _check_study_key(rob, studies, problems)
    for idx, r in rob.iterrows():
        file, row = _where(rob, idx)
        tool = r["tool"]
        if tool not in ROB_DOMAINS:
            continue
        if pd.notna(r["domain"]) and r["domain"] not in ROB_DOMAINS[tool]:
            problems.add(file, f"{tool} domain must be one of: {', '.join(ROB_DOMAINS[tool])}", row, "domain")
        if pd.notna(r["judgement"]) and r["judgement"] not in ROB_JUDGEMENTS[tool]:
            allowed = "0-10" if tool == "PEDro" else ", ".join(ROB_JUDGEMENTS[tool])
            problems.add(file, f"{tool} judgement must be {allowed}", row, "judgement")
    _duplicates(rob, ["study_id", "outcome", "tool", "domain"], problems, "domain", "duplicate rating, as")


def _check_reviews(frame: pd.DataFrame, problems: _Problems) -> None:
    for idx, r in frame.iterrows():
        file, row = _where(frame, idx)
        if pd.notna(r["population"]) and r["population"] != r["_population"]:
            problems.add(file, f"population '{r['population']}' is not this folder's", row, "population")
        _check_order(r, "ci_low", "effect", "ci_high", file, row, problems)


def _duplicates(frame: pd.DataFrame, keys: list[str], problems: _Problems, column: str, message: str) -> None:
    """Report every repeat of a key across all populations, pointing at its first use.

    Study and result ids are unique across the whole evidence base, so keys that start
    with one of them need no population prefix. Rows without the first key are skipped
    (the schema already reports the missing value).
    """
    key = frame[keys].apply(lambda col: col.map(str)).agg("\x1f".join, axis=1)
    first: dict[str, Any] = {}
    for idx in frame.index[frame[keys[0]].notna()]:
        if key[idx] in first:
            file, row = _where(frame, idx)
            ofile, orow = _where(frame, first[key[idx]])
            problems.add(file, f"{message} {ofile} row {orow + 1}", row, column)
        else:
            first[key[idx]] = idx


def poolable(results: pd.DataFrame, studies: pd.DataFrame) -> pd.Series:
    """Rows with numbers an analysis can use (arm forms need both arm sizes), not excluded."""
    excluded = set(studies.loc[studies["eligibility"] == "exclude", "study_id"])
    arms = results["data_form"].isin(("arms_sd", "arms_se", "arms_ci"))
    sizes = results["n_int"].notna() & results["n_ctl"].notna()
    usable = results["data_form"].isin(POOLABLE_FORMS) & (~arms | sizes)
    return usable & ~results["study_id"].isin(excluded)


def summary(ev: EvidenceBase) -> dict[str, Any]:
    """Counts per population, for ``duiding check --format json`` and the report."""
    out: dict[str, Any] = {"populations": {}}
    ok = poolable(ev.results, ev.studies)
    for p in POPULATIONS:
        st = ev.studies[ev.studies["_population"] == p]
        rs = ev.results[ev.results["_population"] == p]
        pool_rows = rs[ok[rs.index]]
        core = pool_rows[pool_rows["outcome"].isin(PAIN_FUNCTION)]
        rob_p = ev.risk_of_bias[ev.risk_of_bias["_population"] == p]
        out["populations"][p] = {
            "studies": len(st),
            "studies_included": int((st["eligibility"] == "include").sum()),
            "studies_indirect": int((st["eligibility"] == "indirect").sum()),
            "studies_with_results": int(rs["study_id"].nunique()),
            "results": len(rs),
            "poolable_results": len(pool_rows),
            "studies_with_poolable_pain_or_function": int(core["study_id"].nunique()),
            "review_results": int((ev.review_results["_population"] == p).sum()),
            "risk_of_bias_studies": int(rob_p["study_id"].nunique()),
        }
    sourced = set(zip(ev.sources["_population"], ev.sources["result_id"], strict=True))
    pairs = zip(ev.results["_population"], ev.results["result_id"], strict=True)
    out["results_without_source"] = sum(1 for pair in pairs if pair not in sourced)
    out["instruments"] = len(ev.instruments)
    return out
