"""``duiding pool``: meta-analyse a CSV of studies (one group, or every group of ``--by``).

The JSON contract: one object per group with ``k, estimate, se, ci_low, ci_high, pval,
df, tau2, tau2_ci_*, i2, i2_ci_*, h2, h2_ci_*, q, q_df, q_pval, pi_low, pi_high,
test_used, studies, egger, trimfill, leave_one_out, cumulative, ranktest, influence,
notes`` (plus ``subgroups`` with ``--subgroup`` and ``grade`` with ``--mid``). Every
statistic is computed for all groups in one vectorised pass; only the conversion into
dictionaries loops.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from ..errors import ModelError, Problems
from ..meta import MetaBatch, Model, StudyData, SubgroupBatch
from ..meta import fit as fit_batch
from ..meta.cumulative import FIELDS as CUMUL_FIELDS
from ..meta.leave1out import FIELDS as LOO_FIELDS
from .pool_input import CsvTable, check, group_codes, numeric_columns, optional_numbers, read_table, study_input

FIT_COLUMNS = (
    "k",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "pval",
    "df",
    "tau2",
    "tau2_ci_low",
    "tau2_ci_high",
    "i2",
    "i2_ci_low",
    "i2_ci_high",
    "h2",
    "h2_ci_low",
    "h2_ci_high",
    "q",
    "q_df",
    "q_pval",
    "pi_low",
    "pi_high",
)


def floats(values: Any) -> list[Any]:
    """Array to (nested) Python lists with NaN and ±inf as None."""
    arr = np.asarray(values, dtype=float)
    obj = arr.astype(object)
    obj[~np.isfinite(arr)] = None
    return obj.tolist()


def clean(value: Any) -> Any:
    """Plain JSON values: numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def fit_columns(batch: MetaBatch) -> dict[str, list[Any]]:
    """The per-group statistics of the contract, each as a list over groups."""
    f = batch.fit
    ci, pred = batch.confint(), batch.predict()
    cols = {
        "estimate": f.estimate,
        "se": f.se[:, 0],
        "ci_low": f.ci_low[:, 0],
        "ci_high": f.ci_high[:, 0],
        "pval": f.pval[:, 0],
        "df": f.df,
        "tau2": f.tau2,
        "tau2_ci_low": ci.tau2_low,
        "tau2_ci_high": ci.tau2_high,
        "i2": f.i2,
        "i2_ci_low": ci.i2_low,
        "i2_ci_high": ci.i2_high,
        "h2": f.h2,
        "h2_ci_low": ci.h2_low,
        "h2_ci_high": ci.h2_high,
        "q": f.q,
        "q_df": f.q_df,
        "q_pval": f.q_pval,
        "pi_low": pred.pi_low,
        "pi_high": pred.pi_high,
    }
    out = {name: floats(values) for name, values in cols.items()}
    out["k"] = [int(x) for x in batch.grid.k]
    return out


INFLUENCE_FIELDS = ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "q_del", "hat", "weight", "dfbetas")


def records(batch: MetaBatch, cumul_order: np.ndarray | None = None) -> list[dict[str, Any]]:
    """One JSON-ready dictionary per group (arrays converted to Python lists once).

    ``cumul_order`` (one number per study) orders the cumulative meta-analysis; input
    order if None.
    """
    grid, model = batch.grid, batch.model
    cols = fit_columns(batch)
    y, v, w = floats(grid.y), floats(grid.v), floats(batch.fit.weights)
    order = grid.order.tolist()
    study = [str(s) for s in batch.data.study]
    eg = batch.regtest()
    eg_stat, eg_p = floats(eg.stat), floats(eg.pval)
    tf = batch.trimfill()
    tf_cols = [floats(x) for x in (tf.estimate, tf.se, tf.ci_low, tf.ci_high)]
    loo = batch.leave1out()
    loo_cols = {name: floats(getattr(loo, name)) for name in LOO_FIELDS}
    test_used = [str(t) for t in batch.fit.test_used]
    cu = batch.cumul(cumul_order)
    cu_cols = {name: floats(getattr(cu, name)) for name in CUMUL_FIELDS}
    cu_step = cu.step
    rank = batch.ranktest()
    rank_tau, rank_p = floats(rank.tau), floats(rank.pval)
    inf = batch.influence() if batch.model.inverse_variance else None
    inf_cols = {} if inf is None else {name: floats(getattr(inf, name)) for name in INFLUENCE_FIELDS}
    out = []
    for g in range(grid.n_groups):
        rec: dict[str, Any] = {
            "group": batch.labels[g],
            "measure": model.measure,
            "method": model.method,
            "test": model.test,
        }
        rec.update({name: cols[name][g] for name in FIT_COLUMNS})
        rec["test_used"] = test_used[g]
        cells = [j for j, i in enumerate(order[g]) if i >= 0]
        names = [study[order[g][j]] for j in cells]
        rec["studies"] = [
            {"study": name, "yi": y[g][j], "vi": v[g][j], "weight": w[g][j]}
            for name, j in zip(names, cells, strict=True)
        ]
        rec["egger"] = None if eg_stat[g] is None else {"stat": eg_stat[g], "pval": eg_p[g]}
        notes = []
        if len(cells) >= 3 and not eg.defined[g]:
            notes.append("Egger test not defined: the standard errors do not vary")
        rec["trimfill"] = None
        if tf.available[g]:
            est, se, lo, hi = (c[g] for c in tf_cols)
            trim = {
                "k0": int(tf.k0[g]),
                "side": str(tf.side[g]),
                "estimate": est,
                "se": se,
                "ci_low": lo,
                "ci_high": hi,
            }
            rec["trimfill"] = trim
        rec["leave_one_out"] = []
        if len(cells) >= 2:
            for name, j in zip(names, cells, strict=True):
                rec["leave_one_out"].append({"study": name, **{f: loo_cols[f][g][j] for f in LOO_FIELDS}})
        steps = sorted(zip(cu_step[g][cells], names, cells, strict=True))
        rec["cumulative"] = [
            {"step": int(step), "study": name, **{f: cu_cols[f][g][j] for f in CUMUL_FIELDS}} for step, name, j in steps
        ]
        rec["ranktest"] = None if rank_tau[g] is None else {"tau": rank_tau[g], "pval": rank_p[g]}
        rec["influence"] = []
        if inf is not None and len(cells) >= 2:
            for name, j in zip(names, cells, strict=True):
                values = {f: inf_cols[f][g][j] for f in INFLUENCE_FIELDS}
                rec["influence"].append({"study": name, **values, "influential": bool(inf.influential[g, j])})
        rec["notes"] = notes
        out.append(rec)
    return out


def subgroup_records(sub: SubgroupBatch, column: str, n_groups: int) -> list[dict[str, Any]]:
    """The ``subgroups`` object of every group: fits per subgroup value and Q-between."""
    out: list[dict[str, Any]] = [{"column": column, "groups": []} for _ in range(n_groups)]
    for row, rec in enumerate(records(sub.within, None)):
        rec.pop("group")
        rec["value"] = sub.value_of[row]
        out[int(sub.parents[row])]["groups"].append(rec)
    for g, item in enumerate(out):
        between = {"q_between": sub.q_between[g], "df_between": sub.df_between[g], "p_between": sub.p_between[g]}
        item.update(clean(between))
    return out


def grade_records(batch: MetaBatch, table: CsvTable, mid: float) -> list[dict[str, Any]]:
    """GRADE suggestions per group: ``mid`` on the analysis scale; optional ``rob`` and n1/n2."""
    from ..grade import suggest
    from ..report.text import reason_text

    if not (math.isfinite(mid) and mid > 0):
        raise ModelError(f"--mid must be a finite number > 0 (the clinical relevance threshold), got {mid:g}")
    problems = Problems(table.source)
    rob = None
    if table.has("rob"):
        rob = [value.lower() for value in table.column("rob")]
        bad = np.array([value not in ("low", "some", "high", "") for value in rob], dtype=bool)
        check(table, problems, bad, "rob", "must be low, some, high or empty")
    n1, n2 = optional_numbers(table, "n1", problems), optional_numbers(table, "n2", problems)
    problems.raise_if_any()
    sizes = None if n1 is None or n2 is None else n1 + n2
    out = []
    for g in range(len(batch)):
        rows = batch.study_rows(g)
        res = batch[g]
        rob_g = None if rob is None else [rob[i] or "not assessed" for i in rows]
        n_total = None if sizes is None else float(sizes[rows].sum())
        grading = suggest(res, rob_g, mid, n_total)
        item: dict[str, Any] = dict(grading.levels())
        item["certainty"] = grading.level.en
        item["reasons"] = {
            d: {"en": reason_text(r.reason, "en"), "nl": reason_text(r.reason, "nl")}
            for d, r in grading.ratings.items()
        }
        out.append(item)
    return out


def run(
    path: str,
    measure: str,
    method: str,
    test: str,
    by: str | None = None,
    subgroup: str | None = None,
    mid: float | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    order: str | None = None,
) -> tuple[list[dict[str, Any]], CsvTable]:
    """Read, fit and assemble the records of a ``pool`` call."""
    model = Model(measure, method, test)
    table = read_table(path, sep, decimal)
    codes, labels = group_codes(table, by) if by else (None, None)
    data: StudyData = study_input(table, measure, model.study_measure, codes)
    order_values = None
    if order:
        problems = Problems(table.source)
        order_values = numeric_columns(table, (order,), problems).get(order)
        problems.raise_if_any()
    batch = fit_batch(data, model, codes, labels)
    out = records(batch, order_values)
    if mid is not None:
        for rec, grade in zip(out, grade_records(batch, table, mid), strict=True):
            rec["grade"] = grade
    if subgroup:
        group_codes(table, subgroup)  # the column exists and has no empty values
        sub = batch.subgroups(np.asarray(table.column(subgroup), dtype=object))
        for rec, item in zip(out, subgroup_records(sub, subgroup, len(out)), strict=True):
            rec["subgroups"] = item
    return out, table


def command(args) -> int:
    results, table = run(
        args.input,
        args.measure,
        args.method,
        args.test,
        args.by,
        args.subgroup,
        args.mid,
        args.sep,
        args.decimal,
        args.order,
    )
    if (table.sep, table.decimal) != (",", "."):
        print(f"duiding pool: read {table.source} as {table.described} ({len(table)} rows)", file=sys.stderr)
    if not args.by:
        for rec in results:
            rec.pop("group")
    if args.format == "json":
        import orjson  # several times faster than json for the large batch output

        payload: Any = results if args.by else results[0]
        options = orjson.OPT_APPEND_NEWLINE | (0 if args.by else orjson.OPT_INDENT_2)
        sys.stdout.write(orjson.dumps(payload, option=options).decode("utf-8"))
    else:
        from .pool_table import format_table

        sys.stdout.write(format_table(results))
    return 0
