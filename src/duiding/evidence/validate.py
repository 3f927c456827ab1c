"""The rules an evidence base must meet, beyond one column at a time.

Column-level rules (types, codes, bounds, required, unique) come from the declarations in
:mod:`duiding.evidence.schema` and run through pandera, which reports every failing cell
at once. The rules here span rows or files: keys, the columns each data form needs, CI
order, duplicates, a source for every result, traceability of every number to its
excerpt, and the screening log. Each rule is a vectorised mask over a whole table, so
checking grows linearly with the size of the base. Every problem names file, row, line
and column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problems
from .base import EvidenceBase
from .schema import ARM_FIELDS, CONDITIONS, REQUIRED_BY_FORM, ROB_DOMAINS, ROB_JUDGEMENTS, SCHEMAS, Col
from .traceability import is_traced, numbers_in

RESULT_KEY = (
    "study_id",
    "comparison",
    "outcome",
    "instrument",
    "timepoint_weeks",
    "timepoint_note",
    "value_type",
    "data_form",
    "adjusted",
)
EXCLUSIONS = ("exclude_screening", "not_retrieved", "exclude_full_text")


def flag(
    problems: Problems, frame: pd.DataFrame, mask: Any, column: str, message: str | Callable[[pd.Series], str]
) -> None:
    """Report every row of ``frame`` where ``mask`` holds; ``message`` may depend on the row."""
    mask = np.asarray(mask, dtype=bool)
    for idx in frame.index[mask]:
        r = frame.loc[idx]
        text = message(r) if callable(message) else message
        problems.add(text, file=str(r["_file"]), row=int(r["_row"]), column=column, line=int(r["_line"]))


def run_schema(frame: pd.DataFrame, schema: dict[str, Col], problems: Problems) -> None:
    """Types, codes, bounds and required values per column (uniqueness: :func:`check_unique`)."""
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
            idx = int(case.index)
            check = str(case.check)
            message = "a value is required" if check == "not_nullable" else f"{check} (got '{case.failure_case}')"
            problems.add(
                message,
                file=str(frame.at[idx, "_file"]),
                row=int(frame.at[idx, "_row"]),
                column=str(case.column),
                line=int(frame.at[idx, "_line"]),
            )


def check_all(ev: EvidenceBase, problems: Problems) -> None:
    """Every cross-row and cross-file rule."""
    for name, schema in SCHEMAS.items():
        for key in (c for c, spec in schema.items() if spec.unique):
            duplicates(getattr(ev, name), [key], problems, key, f"{key} also used in")
    check_instruments(ev.instruments, problems)
    check_studies(ev.studies, problems)
    studies = set(zip(ev.studies["_population"], ev.studies["study_id"], strict=True))
    for table in ("results", "risk_of_bias", "harms", "reported_outcomes", "screening"):
        check_study_key(getattr(ev, table), studies, problems)
    check_results(ev, problems)
    check_sources(ev, problems)
    check_traceability(ev, problems)
    check_risk_of_bias(ev.risk_of_bias, problems)
    check_reviews(ev.review_results, problems)
    check_harms(ev.harms, problems)
    check_screening(ev, problems)


def check_instruments(frame: pd.DataFrame, problems: Problems) -> None:
    lo, hi = frame["scale_min"], frame["scale_max"]
    flag(problems, frame, lo.notna() & hi.notna() & (lo >= hi), "scale_min", "scale_min must be below scale_max")
    needs = (frame["rescale_to_100"] == "yes") & (lo.isna() | hi.isna())
    flag(problems, frame, needs, "rescale_to_100", "rescale_to_100 needs scale_min and scale_max")


STUDY_ID = r"^[A-Za-z][A-Za-z0-9_]*$"  # FirstauthorYEAR, optionally _ACRONYM (evidence/README.md)


def check_studies(frame: pd.DataFrame, problems: Problems) -> None:
    ids = frame["study_id"]
    odd = ids.notna() & ~ids.astype(str).str.fullmatch(STUDY_ID[1:-1])
    flag(problems, frame, odd, "study_id", "must be FirstauthorYEAR (letters, digits, '_'; e.g. Fritz2015_ACRONYM)")
    folder = frame["_population"]
    wrong = frame["population"].notna() & (frame["population"] != folder)
    flag(
        problems,
        frame,
        wrong,
        "population",
        lambda r: f"population '{r['population']}' is not this folder's ({r['_population']})",
    )
    allowed = [c in CONDITIONS[p] for c, p in zip(frame["condition"], folder, strict=True)]
    bad = frame["condition"].notna() & ~np.array(allowed, dtype=bool)

    def conditions(r: pd.Series) -> str:
        return f"condition for {r['_population']} must be one of: {', '.join(CONDITIONS[r['_population']])}"

    flag(problems, frame, bad, "condition", conditions)
    needs = frame["eligibility"].isin(("indirect", "exclude")) & frame["eligibility_note"].isna()
    flag(problems, frame, needs, "eligibility_note", lambda r: f"eligibility '{r['eligibility']}' needs a reason")


def check_study_key(frame: pd.DataFrame, studies: set[tuple[str, str]], problems: Problems) -> None:
    """Every row's study must exist in the same population's studies.csv."""
    known = [(p, s) in studies for p, s in zip(frame["_population"], frame["study_id"], strict=True)]
    bad = frame["study_id"].notna() & ~np.array(known, dtype=bool)
    flag(problems, frame, bad, "study_id", lambda r: f"study '{r['study_id']}' is not in this folder's studies.csv")


def check_results(ev: EvidenceBase, problems: Problems) -> None:
    res = ev.results
    instruments = set(ev.instruments["instrument"].dropna())
    known_form = res["data_form"].isin(list(REQUIRED_BY_FORM))
    missing = res["instrument"].isna() & known_form & (res["data_form"] != "narrative")
    flag(problems, res, missing, "instrument", "a value is required (only narrative rows may omit it)")
    narrative = res["data_form"] == "narrative"
    flag(problems, res, narrative & res["direction"].isna(), "direction", "a narrative result needs its direction")
    stated = ~narrative & known_form & res["direction"].notna()
    flag(problems, res, stated, "direction", "only narrative results carry a direction (numbers give their own)")
    unknown = res["instrument"].notna() & ~res["instrument"].isin(instruments)
    flag(problems, res, unknown, "instrument", lambda r: f"instrument '{r['instrument']}' is not in instruments.csv")
    for form, needed in REQUIRED_BY_FORM.items():
        rows = res["data_form"] == form
        for field in needed:
            for col in [f"{field}_int", f"{field}_ctl"] if field in ARM_FIELDS else [field]:
                flag(problems, res, rows & res[col].isna(), col, f"data_form '{form}' needs a value here")
    check_effects(res, problems)
    for arm in ("int", "ctl"):
        check_order(res, f"ci_low_{arm}", f"mean_{arm}", f"ci_high_{arm}", problems)
        over = res[f"n_{arm}"].notna() & res[f"events_{arm}"].notna() & (res[f"events_{arm}"] > res[f"n_{arm}"])
        flag(problems, res, over, f"events_{arm}", f"events exceed n_{arm}")
    same = "duplicate result (same study, comparison, outcome, instrument, time, type, form) as"
    duplicates(res, list(RESULT_KEY), problems, "study_id", same)


def check_effects(res: pd.DataFrame, problems: Problems) -> None:
    effect = res["data_form"].isin(("effect_ci", "effect_se"))
    for col in ("effect_measure", "effect_definition"):
        flag(problems, res, effect & res[col].isna(), col, lambda r, c=col: f"data_form '{r['data_form']}' needs {c}")
    ratio = res["effect_measure"].isin(("RR", "OR", "HR"))
    defined = res["effect_definition"]
    bad = effect & ratio & defined.notna() & (defined != "int_over_ctl")
    flag(problems, res, bad, "effect_definition", "a ratio needs effect_definition int_over_ctl")
    bad = effect & ~ratio & (defined == "int_over_ctl")
    flag(problems, res, bad, "effect_definition", "int_over_ctl is for ratios (RR, OR, HR)")
    for col in ("effect", "effect_ci_low", "effect_ci_high"):
        flag(problems, res, effect & ratio & res[col].notna() & (res[col] <= 0), col, "a ratio must be > 0")
    check_order(res[effect], "effect_ci_low", "effect", "effect_ci_high", problems)


def check_order(frame: pd.DataFrame, lo: str, mid: str, hi: str, problems: Problems) -> None:
    a, m, b = frame[lo], frame[mid], frame[hi]
    both = a.notna() & b.notna()
    flag(problems, frame, both & (a > b), lo, lambda r: f"{lo} ({r[lo]:g}) is above {hi} ({r[hi]:g})")
    outside = both & (a <= b) & m.notna() & ~((a <= m) & (m <= b))
    flag(problems, frame, outside, mid, lambda r: f"{mid} ({r[mid]:g}) lies outside its CI ({r[lo]:g} to {r[hi]:g})")


def check_sources(ev: EvidenceBase, problems: Problems) -> None:
    src, res = ev.sources, ev.results
    results = set(zip(res["_population"], res["result_id"], strict=True))
    sourced = set(zip(src["_population"], src["result_id"], strict=True))
    known = np.array([pair in results for pair in zip(src["_population"], src["result_id"], strict=True)], dtype=bool)
    flag(
        problems,
        src,
        src["result_id"].notna() & ~known,
        "result_id",
        lambda r: f"result '{r['result_id']}' is not in this folder's results.csv",
    )
    has = np.array([pair in sourced for pair in zip(res["_population"], res["result_id"], strict=True)], dtype=bool)
    flag(problems, res, res["result_id"].notna() & ~has, "result_id", "result has no row in sources.csv")


def traced_columns() -> list[str]:
    """Numeric result columns that must occur in the excerpt (time points are coded)."""
    arms = [f"{f}_{arm}" for arm in ("int", "ctl") for f in ARM_FIELDS]
    return [*arms, "effect", "effect_ci_low", "effect_ci_high", "effect_se", "baseline_mean_int", "baseline_mean_ctl"]


HARM_NUMBERS = ("events_int", "n_int", "events_ctl", "n_ctl")


def check_traceability(ev: EvidenceBase, problems: Problems) -> None:
    """Every number of a result (or harm) row occurs in its verbatim excerpt."""
    src = ev.sources
    excerpts = {
        (p, rid): str(x)
        for p, rid, x in zip(src["_population"], src["result_id"], src["excerpt"], strict=True)
        if pd.notna(x)
    }
    res = ev.results
    texts = [excerpts.get(pair) for pair in zip(res["_population"], res["result_id"], strict=True)]
    untraced(res, texts, traced_columns(), problems)
    untraced(ev.harms, list(ev.harms["excerpt"]), list(HARM_NUMBERS), problems)


def untraced(frame: pd.DataFrame, excerpts: list[str | None], columns: list[str], problems: Problems) -> None:
    values = frame[columns].to_numpy(dtype=float)
    for i, excerpt in enumerate(excerpts):
        present = np.flatnonzero(np.isfinite(values[i]))
        if excerpt is None or present.size == 0:
            continue  # a result without source is reported by check_sources
        numbers = numbers_in(str(excerpt))
        for j in present:
            if not is_traced(float(values[i, j]), numbers):
                r = frame.iloc[i]
                message = f"{values[i, j]:g} does not occur in the source excerpt"
                problems.add(message, file=r["_file"], row=int(r["_row"]), column=columns[j], line=int(r["_line"]))


def check_risk_of_bias(rob: pd.DataFrame, problems: Problems) -> None:
    known = rob["tool"].isin(list(ROB_DOMAINS))
    domain_ok = [d in ROB_DOMAINS.get(t, ()) for t, d in zip(rob["tool"], rob["domain"], strict=True)]
    bad = known & rob["domain"].notna() & ~np.array(domain_ok, dtype=bool)
    flag(
        problems,
        rob,
        bad,
        "domain",
        lambda r: f"{r['tool']} domain must be one of: {', '.join(ROB_DOMAINS[r['tool']])}",
    )
    judged = [j in ROB_JUDGEMENTS.get(t, ()) for t, j in zip(rob["tool"], rob["judgement"], strict=True)]
    bad = known & rob["judgement"].notna() & ~np.array(judged, dtype=bool)

    def allowed(r: pd.Series) -> str:
        values = "0-10" if r["tool"] == "PEDro" else ", ".join(ROB_JUDGEMENTS[r["tool"]])
        return f"{r['tool']} judgement must be {values}"

    flag(problems, rob, bad, "judgement", allowed)
    duplicates(rob, ["study_id", "outcome", "tool", "domain"], problems, "domain", "duplicate rating, as")


def check_reviews(frame: pd.DataFrame, problems: Problems) -> None:
    wrong = frame["population"].notna() & (frame["population"] != frame["_population"])
    flag(problems, frame, wrong, "population", lambda r: f"population '{r['population']}' is not this folder's")
    check_order(frame, "ci_low", "effect", "ci_high", problems)


def check_harms(frame: pd.DataFrame, problems: Problems) -> None:
    for arm in ("int", "ctl"):
        n, e = frame[f"n_{arm}"], frame[f"events_{arm}"]
        flag(problems, frame, n.notna() & e.notna() & (e > n), f"events_{arm}", f"events exceed n_{arm}")
    none_with_events = (frame["finding"] == "none") & ((frame["events_int"] > 0) | (frame["events_ctl"] > 0))
    flag(problems, frame, none_with_events, "finding", "finding 'none' but events are counted")


def check_screening(ev: EvidenceBase, problems: Problems) -> None:
    """The screening log agrees with studies.csv and gives a reason for every exclusion."""
    log, studies = ev.screening, ev.studies
    eligibility = {
        (p, s): e for p, s, e in zip(studies["_population"], studies["study_id"], studies["eligibility"], strict=True)
    }
    elig = pd.Series(
        [eligibility.get(k) for k in zip(log["_population"], log["study_id"], strict=True)], index=log.index
    )
    include = log["decision"] == "include"
    flag(problems, log, include & log["study_id"].isna(), "study_id", "an included record names its study")
    wrong = include & elig.notna() & ~elig.isin(("include", "indirect"))
    flag(
        problems, log, wrong, "decision", lambda r: f"study '{r['study_id']}' has eligibility 'exclude' in studies.csv"
    )
    excluded_study = (log["decision"] == "exclude_full_text") & elig.notna() & (elig != "exclude")
    flag(
        problems,
        log,
        excluded_study,
        "decision",
        lambda r: f"study '{r['study_id']}' is included in studies.csv; exclude it there too",
    )
    other = log["decision"].isin(("duplicate", "exclude_screening", "not_retrieved")) & log["study_id"].notna()
    flag(problems, log, other, "study_id", "only included (or full-text excluded) records name a study")
    needs_reason = log["decision"].isin(EXCLUSIONS) & log["reason"].isna()
    flag(problems, log, needs_reason, "reason", lambda r: f"decision '{r['decision']}' needs a reason")
    records = set(zip(log["_population"], log["record_id"], strict=True))
    dup = log["decision"] == "duplicate"
    points = [(p, d) in records for p, d in zip(log["_population"], log["duplicate_of"], strict=True)]
    flag(problems, log, dup & ~np.array(points, dtype=bool), "duplicate_of", "a duplicate names a record of this file")
    named = set(zip(log["_population"], log["study_id"], strict=True))
    for population in sorted(set(studies["_population"])):
        if not (log["_population"] == population).any():
            continue  # no log yet for this population: reported as a finding by the summary
        rows = studies[studies["_population"] == population]
        unnamed = [(population, s) not in named for s in rows["study_id"]]
        flag(problems, rows, unnamed, "study_id", "study has no record in screening.csv")


def duplicates(frame: pd.DataFrame, keys: list[str], problems: Problems, column: str, message: str) -> None:
    """Report every repeat of a key across all populations, pointing at its first use.

    Study, result and record ids are unique across the whole evidence base, so keys that
    start with one of them need no population prefix. Rows without the first key are
    skipped (the schema already reports the missing value).
    """
    present = frame[frame[keys[0]].notna()]
    if present.empty:
        return
    key = present[keys[0]].map(str)
    for k in keys[1:]:
        key = key + "\x1f" + present[k].map(str)
    repeated = key.duplicated(keep="first")
    first = {k: idx for idx, k in key[~repeated].items()}
    for idx in key.index[repeated.to_numpy()]:
        o = frame.loc[first[key[idx]]]
        r = frame.loc[idx]
        text = f"{message} {o['_file']} row {int(o['_row']) + 1} (line {int(o['_line'])})"
        problems.add(text, file=str(r["_file"]), row=int(r["_row"]), column=column, line=int(r["_line"]))
