"""Plain-text summaries of pooled results (``duiding pool --format table``)."""

from __future__ import annotations

from typing import Any


def _num(x: Any, digits: int = 4) -> str:
    return "NA" if x is None else f"{x:.{digits}f}"


def _ci(rec: dict[str, Any], key: str, digits: int = 4) -> str:
    return f"{_num(rec[key + '_ci_low'], digits)} to {_num(rec[key + '_ci_high'], digits)}"


def format_table(results: list[dict[str, Any]]) -> str:
    lines = []
    for rec in results:
        head = f"{rec['measure']} · {rec['method']} · test {rec['test']} · k = {rec['k']}"
        if rec.get("group") is not None:
            head = f"[{rec['group']}] " + head
        lines.append(head)
        lines.append(
            f"  estimate {_num(rec['estimate'])}  SE {_num(rec['se'])}  "
            f"95% CI {_num(rec['ci_low'])} to {_num(rec['ci_high'])}  p {_num(rec['pval'])}"
        )
        lines.append(
            f"  tau² {_num(rec['tau2'])} ({_ci(rec, 'tau2')})  "
            f"I² {_num(rec['i2'], 2)}% ({_ci(rec, 'i2', 2)})  "
            f"H² {_num(rec['h2'])}"
        )
        lines.append(
            f"  Q {_num(rec['q'])} (df {_num(rec['q_df'], 0)}, p {_num(rec['q_pval'])})  "
            f"95% PI {_num(rec['pi_low'])} to {_num(rec['pi_high'])}"
        )
        if rec["egger"]:
            lines.append(f"  Egger test: {_num(rec['egger']['stat'])} (p {_num(rec['egger']['pval'])})")
        if rec["trimfill"]:
            tf = rec["trimfill"]
            lines.append(
                f"  trim-and-fill: k0 = {tf['k0']} ({tf['side']}), estimate {_num(tf['estimate'])} "
                f"({_num(tf['ci_low'])} to {_num(tf['ci_high'])})"
            )
        lines.append(f"  {'study':<30} {'yi':>10} {'vi':>10} {'weight %':>9}")
        for s in rec["studies"]:
            yi, vi, weight = _num(s["yi"]), _num(s["vi"]), _num(s["weight"], 2)
            lines.append(f"  {s['study'][:30]:<30} {yi:>10} {vi:>10} {weight:>9}")
        lines.append("")
    return "\n".join(lines)
