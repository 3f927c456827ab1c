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
from ..evidence import load_plan
from ..grade.rules import load_rules

MINUS = "−"


@cache
def labels() -> dict[str, Any]:
    return load_config("labels")


def label(section: str, code: Any) -> str:
    """The Dutch label of a code; an unknown code is shown as it is (and caught by a test)."""
    table = labels()[section]
    value = table.get(code, table.get(str(code)) if not isinstance(code, str) else None)
    return str(code) if value is None else str(value)


def design_label(section: str, design: str) -> str:
    """A type of comparison as ZIN's rule reads it (``designs``, ``designs_short`` or
    ``design_clauses``), naming from the analysis plan which comparators count as the care
    a therapy replaces and which are held to the add-on criterion."""
    plan = load_plan()
    table = labels()[section]
    key = "add_on_controls" if design == "add_on" and plan.benefit_controls else design
    if key not in table:
        return str(design)
    standard = comparator_list(plan.replaced_care) or label("comparators_short", "usual_care")
    return phrase(table[key], {"standard": standard, "controls": comparator_list(plan.benefit_controls)})


def rule_by_design() -> str:
    """What ZIN's rule asks per type of comparison, and (where the plan holds some
    comparators to the add-on criterion) why a 'replacement' against them asks for benefit."""
    words = labels()["conclusion"]
    kinds = {d: design_label("designs_short", d) for d in ("add_on", "replacement")}
    text = phrase(words["by_design"], kinds)
    controls = load_plan().benefit_controls
    return f"{text} {phrase(words['controls_note'], {'controls': comparator_list(controls)})}" if controls else text


def comparator_list(codes: tuple[str, ...]) -> str:
    """Comparator codes by their short labels: 'a', 'a of b', 'a, b of c' ('' for none)."""
    names = [label("comparators_short", c) for c in codes]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} of {names[-1]}" if names else ""


def country(names: Any) -> str:
    """'Australia; New Zealand' → 'Australië, Nieuw-Zeeland' (empty: unknown)."""
    if not isinstance(names, str) or not names.strip():
        return "onbekend"
    return ", ".join(label("countries", n.strip()) for n in names.split(";"))


def count(n: int) -> str:
    """A count with the Dutch thousands separator: 2746 → '2.746'."""
    return f"{int(n):,}".replace(",", ".")


def num(x: float | None, digits: int = 1, lang: str = "nl") -> str:
    """A number to ``digits`` decimals: decimal comma (Dutch), real minus sign, no "−0,0"."""
    if x is None or not math.isfinite(x):
        return "–"
    text = f"{x:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    text = text.replace("-", MINUS)
    return text.replace(".", ",") if lang == "nl" else text


MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


def date_nl(iso: str | None) -> str:
    """'2026-12-02' → '2 december 2026'; anything else is shown as it is ('' when missing)."""
    try:
        year, month, day = (int(part) for part in (iso or "").split("-"))
        return f"{day} {MONTHS[month - 1]} {year}"
    except (ValueError, IndexError):
        return iso or ""


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
        if format_spec == "i2":
            return i2_text(value, self.lang)
        if format_spec == "p3":
            return p_value(value, self.lang)
        if format_spec == "studies":  # "1 niet-gepoolde studie", "2 niet-gepoolde studies"
            one, many = ("studie", "studies") if self.lang == "nl" else ("study", "studies")
            return f"{value} {one if value == 1 else many}"
        return super().format_field(value, format_spec)


def i2_text(value: float, lang: str = "nl") -> str:
    """I² as a whole number, with one decimal where rounding would reach a GRADE band bound
    the value is below (49,8 shown as 50 beside "not rated down" at a bound of 50)."""
    rules = load_rules()
    bounds = (rules.down_one_if_i2_at_least, rules.down_two_if_i2_at_least)
    below_bound = any(value < bound <= round(value) for bound in bounds)
    return num(value, 1 if below_bound else 0, lang)


def phrase(template: str, values: dict[str, Any], lang: str = "nl") -> str:
    return _Formatter(lang).format(template, **values)


def reason_text(reason: Any, lang: str = "nl") -> str:
    """A GRADE reason (:class:`duiding.grade.Reason`) in words: "ernstig: …"."""
    table = labels()
    body = "".join(phrase(table["reasons"][p.key][lang], p.values, lang) for p in reason.phrases)
    body = body.removeprefix("; ")  # a joining clause that came first
    if reason.severity is None:
        return body
    return f"{table['severity'][reason.severity][lang]}: {body}"


def certainty_label(level: int) -> str:
    return label("certainty", level)


def outcome_name(outcome: str, population: str | None = None) -> str:
    """A plan outcome's name, which can differ per population (radicular: pain is leg pain)."""
    special = labels()["plan_outcomes"].get(population or "", {})
    return str(special.get(outcome) or label("outcomes", outcome))


def outcome_window(outcome: str, window: str, population: str | None = None) -> str:
    """'Pijn, korte termijn (≤ 3 maanden)'."""
    return f"{outcome_name(outcome, population)}, {label('windows', window)}"


def effect_ci(estimate: float, lo: float, hi: float, digits: int = 1) -> str:
    """'−9,7 (95%-BI −13,8 tot −5,7)'."""
    return f"{num(estimate, digits)} (95%-BI {num(lo, digits)} tot {num(hi, digits)})"


def relevance_wording(relevance: str, ci_low: float | None, mid: float) -> str:
    """The wording key: a benefit below the threshold whose CI still reaches past it does
    not exclude a relevant benefit, and is not worded as if it did."""
    if relevance == "below_threshold" and ci_low is not None and ci_low < -mid:
        return "below_threshold_uncertain"
    return relevance


def step_text(step: Any, symbols: dict[int, str]) -> str:
    """One step of the draft conclusion (:class:`duiding.grade.Step`) in Dutch."""
    words = labels()["conclusion"]
    v = step.values
    key = step.key
    if key == "crucial":
        outcomes = ", ".join(outcome_name(o, v.get("population")).lower() for o in v["outcomes"])
        return phrase(words["crucial"], {**v, "outcomes": outcomes, "needed": certainty_label(v["needed"]).lower()})
    if key == "outcome_empty":
        return phrase(words["outcome_empty"], {"label": outcome_window(v["outcome"], v["window"], v.get("population"))})
    if key in ("outcome", "design"):
        return _effect_step(key, v, words, symbols)
    if key == "design_unclear":
        return phrase(words["design_unclear"], {**v, "studies_word": "studie" if v["n"] == 1 else "studies"})
    if key == "harms":
        word = "studie" if v["n"] == 1 else "studies"
        return phrase(words[f"harms_{v['level']}"], {**v, "studies_word": word})
    if key == "rule":
        needed = certainty_label(v["needed"]).lower()
        kinds = {d: design_label("designs_short", d) for d in ("add_on", "replacement")}
        text = phrase(words["rule"], {"needed": needed, **kinds})
        if not v["met"]:
            return f"{text} {words['rule_not_met']}"
        designs = " en ".join(kinds[d] for d in sorted({q["design"] for q in v["qualifying"]}))
        qualifying = "; ".join(
            f"{outcome_window(q['outcome'], q['window'], v.get('population'))}, {kinds[q['design']]}"
            for q in v["qualifying"]
        )
        return f"{text} {phrase(words['rule_met'], {'designs': designs, 'qualifying': qualifying})}"
    raise KeyError(f"no wording for conclusion step {key!r}")


def _effect_step(key: str, v: dict[str, Any], words: dict[str, str], symbols: dict[int, str]) -> str:
    """An outcome over all comparisons, or one type of comparison against its criterion."""
    certainty = v["certainty"]
    values = {
        "label": outcome_window(v["outcome"], v["window"], v.get("population")),
        "studies": studies(v["k"]),
        "policy": label("policies", v["policy"]),
        "certainty": certainty_label(certainty).lower() if certainty else "–",
        "symbol": symbols.get(certainty, ""),
    }
    pooled = "estimate" in v
    if pooled:
        if v.get("measure") == "SMD":  # no instrument range known: the SMD analysis stands in
            values["effect"] = f"SMD {effect_ci(v['estimate'], v['lo'], v['hi'], 2)}"
        else:
            values["effect"] = f"MD {effect_ci(v['estimate'], v['lo'], v['hi'])} op 0-100"
    if key == "outcome":
        if not pooled:
            return phrase(words["outcome_not_pooled"], values)
        wording = relevance_wording(v["relevance"], v.get("lo"), v["mid"])
        relevance = phrase(label("sof_comments", wording), {"mid": -v["mid"]})
        return phrase(words["outcome"], {**values, "relevance": relevance})
    name = design_label("designs_short", v["design"])
    values["design"] = name[:1].upper() + name[1:]
    if not pooled:
        return phrase(words["design_not_pooled"], values)
    values["criterion"] = phrase(words[f"criterion_{v['criterion']}"], {"mid": v["mid"]})
    values["met"] = words["yes"] if v["met"] else words["no"]
    values["verdict"] = words["meets_criterion"] if v["meets"] else words["fails_criterion"]
    return phrase(words["design"], values)


def verdict(meets: bool, designs: list[str] | None = None) -> str:
    """'voldoen (niet) aan de stand …', with the types of comparison where only some meet."""
    words = labels()["conclusion"]
    if not meets:
        return words["verdict_fails"]
    if designs and len(designs) < 2:
        clauses = " of ".join(design_label("design_clauses", d) for d in designs)
        return phrase(words["verdict_meets_designs"], {"designs": clauses})
    return words["verdict_meets"]
