"""Words and numbers as the reader sees them: one Dutch number style and the label table.

Every code shown to a reader passes through :func:`label` (``config/labels.yaml``), and
every number through :func:`num` and its kin: a decimal comma, a real minus sign "−",
never "−0,0". GRADE reasons and the conclusion's steps, which the lower rooms keep as
codes and numbers, are worded here (:func:`reason_text`, :func:`step_text`).
"""

from __future__ import annotations

import math
import string
from functools import cache
from typing import Any

from ..config import load_config

MINUS = "−"


@cache
def labels() -> dict[str, Any]:
    return load_config("labels")


def label(section: str, code: Any) -> str:
    """The Dutch label of a code; an unknown code is shown as it is (and caught by a test)."""
    table = labels()[section]
    value = table.get(code, table.get(str(code)) if not isinstance(code, str) else None)
    return str(code) if value is None else str(value)


def num(x: float | None, digits: int = 1, lang: str = "nl") -> str:
    """A number to ``digits`` decimals: decimal comma (Dutch), real minus sign, no "−0,0"."""
    if x is None or not math.isfinite(x):
        return "–"
    text = f"{x:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    text = text.replace("-", MINUS)
    return text.replace(".", ",") if lang == "nl" else text


def shortest(x: float, lang: str = "nl") -> str:
    """Shortest form of a threshold: 10, 0,5."""
    text = f"{x:g}".replace("-", MINUS)
    return text.replace(".", ",") if lang == "nl" else text


def percent(share: float, lang: str = "nl") -> str:
    """A share (0-1) as a whole percentage: 0,2 → 20%."""
    return f"{num(100 * share, 0, lang)}%"


def p_value(p: float, lang: str = "nl") -> str:
    """A p-value to three decimals; below 0,001 as "< 0,001" (never 0,000)."""
    if p is not None and math.isfinite(p) and p < 0.001:
        return f"< {num(0.001, 3, lang)}"
    return num(p, 3, lang)


def studies(k: int) -> str:
    return f"{k} studie" if k == 1 else f"{k} studies"


class _Formatter(string.Formatter):
    """``str.format`` with the number styles of the label table: n0-n3, g, pct, p3."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec in ("n0", "n1", "n2", "n3"):
            return num(value, int(format_spec[1]), self.lang)
        if format_spec == "g":
            return shortest(value, self.lang)
        if format_spec == "pct":
            return percent(value, self.lang)
        if format_spec == "p3":
            return p_value(value, self.lang)
        return super().format_field(value, format_spec)


def phrase(template: str, values: dict[str, Any], lang: str = "nl") -> str:
    return _Formatter(lang).format(template, **values)


def reason_text(reason: Any, lang: str = "nl") -> str:
    """A GRADE reason (:class:`duiding.grade.Reason`) in words: "ernstig: …"."""
    table = labels()
    body = "".join(phrase(table["reasons"][p.key][lang], p.values, lang) for p in reason.phrases)
    if reason.severity is None:
        return body
    return f"{table['severity'][reason.severity][lang]}: {body}"


def certainty_label(level: int) -> str:
    return label("certainty", level)


def outcome_window(outcome: str, window: str) -> str:
    """'Pijn, korte termijn (≤ 3 maanden)'."""
    return f"{label('outcomes', outcome)}, {label('windows', window)}"


def step_text(step: Any, symbols: dict[int, str]) -> str:
    """One step of the draft conclusion (:class:`duiding.grade.Step`) in Dutch."""
    words = labels()["conclusion"]
    v = step.values
    if step.key == "crucial":
        outcomes = ", ".join(label("outcomes", o).lower() for o in v["outcomes"])
        return phrase(words["crucial"], {**v, "outcomes": outcomes, "needed": certainty_label(v["needed"]).lower()})
    if step.key == "outcome_empty":
        return phrase(words["outcome_empty"], {"label": outcome_window(v["outcome"], v["window"])})
    if step.key == "outcome":
        values = {
            **v,
            "label": outcome_window(v["outcome"], v["window"]),
            "studies": studies(v["k"]),
            "relevant": words["yes"] if v["relevant"] else words["no"],
            "certainty": certainty_label(v["certainty"]).lower(),
            "symbol": symbols[v["certainty"]],
            "verdict": words["meets_criterion"] if v["meets"] else words["fails_criterion"],
        }
        return phrase(words["outcome"], values)
    if step.key == "rule":
        needed = certainty_label(v["needed"]).lower()
        if not v["met"]:
            return phrase(words["rule_not_met"], {"needed": needed})
        qualifying = "; ".join(outcome_window(q["outcome"], q["window"]) for q in v["qualifying"])
        return phrase(words["rule_met"], {"needed": needed, "qualifying": qualifying})
    return phrase(words[step.key], v)


def verdict(meets: bool) -> str:
    words = labels()["conclusion"]
    return words["verdict_meets"] if meets else words["verdict_fails"]
