"""A population's assessment: every analysis graded, the Summary of Findings rows and the
draft conclusion with each step of ZIN's rule written out.

ZIN's rule (methods notes): the therapy meets "de stand van de wetenschap en praktijk"
when at least one crucial outcome shows a clinically relevant benefit at adequate
certainty and there is no important harm. Crucial outcomes, the certainty needed and the
thresholds come from the assessor's file; defaults are explicit there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .config import load_config
from .evidence import EvidenceBase
from .extraction import extract
from .formatting import en as _en
from .formatting import nl as fmt
from .formatting import studies_en, studies_nl
from .grade import DOMAIN_NL, DOMAINS, Grading, suggest
from .judgements import CERTAINTY, Judgements
from .synthesis import Analysis, Spec, all_specs, run


@dataclass
class Outcome:
    analysis: Analysis
    mid: float
    grading: Grading | None = None
    participants: int | None = None
    participants_complete: bool = True

    @property
    def spec(self) -> Spec:
        return self.analysis.spec

    @property
    def result(self) -> dict[str, Any] | None:
        return self.analysis.result

    @property
    def relevant(self) -> bool | None:
        """Point estimate at or beyond the threshold in favour of therapy, CI excluding 0."""
        r = self.result
        if r is None or r["ci_high"] is None:
            return None
        return r["estimate"] <= -self.mid and r["ci_high"] < 0


@dataclass
class Conclusion:
    meets: bool
    verdict_nl: str
    verdict_en: str
    steps_nl: list[str] = field(default_factory=list)
    steps_en: list[str] = field(default_factory=list)


@dataclass
class PopulationAssessment:
    population: str
    judgements: Judgements
    outcomes: list[Outcome]  # primary measure
    alternative: list[Outcome]  # SMD analyses
    conclusion: Conclusion
    design_counts: dict[str, int]


def participants(rows: pd.DataFrame) -> tuple[int, bool]:
    """Participants in the compared arms over the chosen results, and whether all are known.

    A trial's total randomised is not used in place of missing arm sizes: in multi-arm and
    factorial trials it would overstate the number in this comparison. Unknown arm sizes
    make the total a lower bound (shown as "≥").
    """
    known = rows["n_int"].notna() & rows["n_ctl"].notna()
    return int((rows.loc[known, "n_int"] + rows.loc[known, "n_ctl"]).sum()), bool(known.all())


def assess_outcome(spec: Spec, ev: EvidenceBase, extracted: pd.DataFrame, judgements: Judgements) -> Outcome:
    analysis = run(spec, ev, extracted)
    outcome = Outcome(analysis, judgements.mid(spec.outcome, spec.measure))
    if analysis.result is None:
        return outcome
    outcome.participants, outcome.participants_complete = participants(analysis.rows)
    order = {s: i for i, s in enumerate(analysis.rows["study_id"])}
    rob = [analysis.rows["rob"].iloc[order[s["study"]]] for s in analysis.result["studies"]]
    ois = load_config("grade_rules")["imprecision"]["optimal_information_size"]
    # A lower bound still settles the optimal information size once it reaches it.
    known = outcome.participants_complete or outcome.participants >= ois
    grading = suggest(analysis.result, rob, outcome.mid, outcome.participants if known else None)
    outcome.grading = judgements.apply(grading, spec.outcome, spec.window)
    return outcome


def assess(ev: EvidenceBase, judgements: Judgements, method: str = "REML", test: str = "knha") -> PopulationAssessment:
    population = judgements.population
    extracted = extract(ev.results, ev.instruments)
    primary = [assess_outcome(s, ev, extracted, judgements) for s in all_specs(population, "MD100", method, test)]
    smd = [assess_outcome(s, ev, extracted, judgements) for s in all_specs(population, "SMD", method, test)]
    res = ev.results[ev.results["_population"] == population]
    designs = res.drop_duplicates("study_id")["comparison_design"].value_counts().to_dict()
    return PopulationAssessment(population, judgements, primary, smd, conclude(primary, judgements), designs)


def conclude(outcomes: list[Outcome], judgements: Judgements) -> Conclusion:
    cfg = load_config("analysis")
    needed = CERTAINTY[judgements.certainty_needed]
    needed_nl = load_config("grade_rules")["levels"][needed]["nl"].lower()
    crucial = judgements.crucial_outcomes
    names_nl = ", ".join(cfg["outcomes"][o]["label_nl"].lower() for o in crucial)
    names_en = ", ".join(cfg["outcomes"][o]["label_en"].lower() for o in crucial)
    steps_nl = [
        f"Cruciale uitkomstmaten: {names_nl}; vereiste zekerheid: '{needed_nl}' of hoger "
        f"(vastgelegd in {judgements.display_path}).",
    ]
    steps_en = [
        f"Crucial outcomes: {names_en}; certainty needed: at least {judgements.certainty_needed} "
        f"(set in {judgements.display_path}).",
    ]
    qualifying = []
    for o in outcomes:
        if o.spec.outcome not in crucial:
            continue
        label_nl = f"{cfg['outcomes'][o.spec.outcome]['label_nl']}, {cfg['windows'][o.spec.window]['label_nl']}"
        label_en = f"{cfg['outcomes'][o.spec.outcome]['label_en']}, {cfg['windows'][o.spec.window]['label_en']}"
        r = o.result
        if r is None:
            steps_nl.append(f"{label_nl}: geen bruikbare studies.")
            steps_en.append(f"{label_en}: no usable studies.")
            continue
        grading = o.grading
        assert grading is not None
        ok = bool(o.relevant) and grading.certainty >= needed
        if ok:
            qualifying.append(label_nl)
        k = o.analysis.k
        eff = f"MD {fmt(r['estimate'])} (95%-BI {fmt(r['ci_low'])} tot {fmt(r['ci_high'])}) op 0-100, {studies_nl(k)}"
        eff_en = f"MD {_en(r['estimate'])} (95% CI {_en(r['ci_low'])} to {_en(r['ci_high'])}) on 0-100, {studies_en(k)}"
        rel_nl = "ja" if o.relevant else "nee"
        steps_nl.append(
            f"{label_nl}: {eff}; klinisch relevant voordeel (grens −{fmt(o.mid, 0)}, BI exclusief 0): {rel_nl}; "
            f"zekerheid: {grading.label('nl').lower()} {grading.symbol()} → "
            f"{'voldoet aan het criterium' if ok else 'voldoet niet aan het criterium'}."
        )
        steps_en.append(
            f"{label_en}: {eff_en}; clinically relevant benefit (threshold −{o.mid:g}, CI excluding 0): "
            f"{'yes' if o.relevant else 'no'}; certainty: {grading.label('en')} → "
            f"{'meets' if ok else 'does not meet'} the criterion."
        )
    steps_nl.append(
        "Schade: de evidence base bevat geen gegevens over bijwerkingen of schade; dit deel van de regel is "
        "niet beoordeeld."
    )
    steps_en.append("Harm: the evidence base holds no data on adverse effects; this part of the rule was not assessed.")
    meets = bool(qualifying)
    verdict_nl = (
        "voldoet aan de stand van de wetenschap en praktijk"
        if meets
        else "voldoet niet aan de stand van de wetenschap en praktijk"
    )
    verdict_en = (
        "meets the state of science and practice" if meets else "does not meet the state of science and practice"
    )
    steps_nl.append(
        f"Regel: ten minste één cruciale uitkomstmaat met een klinisch relevant voordeel bij zekerheid "
        f"'{needed_nl}' of hoger. "
        + ("Voldaan door: " + "; ".join(qualifying) if meets else "Door geen enkele uitkomstmaat voldaan")
        + "."
    )
    steps_en.append(
        f"Rule: at least one crucial outcome with a clinically relevant benefit at {judgements.certainty_needed} "
        f"certainty or higher: {'met' if meets else 'not met'}."
    )
    return Conclusion(meets, verdict_nl, verdict_en, steps_nl, steps_en)


def sof_table(pa: PopulationAssessment, lang: str = "nl") -> pd.DataFrame:
    """Summary of Findings: up to 7 outcome rows, footnotes naming each downgrade."""
    cfg = load_config("analysis")
    nl = lang == "nl"
    rows, notes = [], []
    for o in pa.outcomes[:7]:
        label = cfg["outcomes"][o.spec.outcome]["label_nl" if nl else "label_en"]
        window = cfg["windows"][o.spec.window]["label_nl" if nl else "label_en"]
        r = o.result
        if r is None:
            rows.append(
                {
                    "Uitkomst" if nl else "Outcome": f"{label} (0-100; {window})",
                    "Gemiddelde controlegroep" if nl else "Mean in control group": "–",
                    "Effect (95%-BI)" if nl else "Effect (95% CI)": "geen studies" if nl else "no studies",
                    "Deelnemers (studies)" if nl else "Participants (studies)": "0 (0)",
                    "Zekerheid" if nl else "Certainty": "–",
                    "Opmerkingen" if nl else "Comments": "",
                }
            )
            continue
        grading = o.grading
        assert grading is not None
        marks = []
        for d in DOMAINS:
            rating = grading.ratings[d]
            if rating.level < 0 or rating.overridden:
                notes.append(_footnote(d, rating, nl))
                marks.append(str(len(notes)))
        lo, hi, est = r["ci_low"], r["ci_high"], r["estimate"]
        f = fmt if nl else _en
        effect = f"MD {f(est)} ({f(lo)} {'tot' if nl else 'to'} {f(hi)})"
        n = f"{'≥ ' if not o.participants_complete else ''}{o.participants} ({o.analysis.k})"
        if o.relevant:
            comment = "klinisch relevant voordeel" if nl else "clinically relevant benefit"
        elif r["ci_high"] is not None and r["ci_high"] < 0:
            comment = (
                f"voordeel kleiner dan de relevantiegrens (−{fmt(o.mid, 0)})"
                if nl
                else f"benefit smaller than the threshold (−{o.mid:g})"
            )
        else:
            comment = "geen aangetoond verschil" if nl else "no demonstrated difference"
        rows.append(
            {
                "Uitkomst" if nl else "Outcome": f"{label} (0-100; {window})",
                "Gemiddelde controlegroep" if nl else "Mean in control group": control_mean(o, lang),
                "Effect (95%-BI)" if nl else "Effect (95% CI)": effect,
                "Deelnemers (studies)" if nl else "Participants (studies)": n,
                "Zekerheid" if nl else "Certainty": f"{grading.symbol()} {grading.label(lang)}"
                + (f" {','.join(marks)}" if marks else ""),
                "Opmerkingen" if nl else "Comments": comment,
            }
        )
    table = pd.DataFrame(rows)
    table.attrs["footnotes"] = notes
    return table


def _footnote(domain: str, rating, nl: bool) -> str:
    name = DOMAIN_NL[domain] if nl else domain.replace("_", " ")
    levels = abs(rating.level)
    if nl:
        text = f"{name.capitalize()}: {levels} niveau{'s' if levels != 1 else ''} afgewaardeerd — {rating.reason_nl}"
        if rating.overridden:
            text += f" [oordeel beoordelaar, suggestie was {rating.suggested}: {rating.override_reason}]"
        return text
    text = f"{name.capitalize()}: rated down {levels} level{'s' if levels != 1 else ''} — {rating.reason_en}"
    if rating.overridden:
        text += f" [assessor's judgement, suggestion was {rating.suggested}: {rating.override_reason}]"
    return text


def control_mean(o: Outcome, lang: str = "nl") -> str:
    """Median control-group value on 0-100 (0 = best) over studies reporting final arm means."""
    rows = o.analysis.rows
    arms = rows[rows["data_form"].str.startswith("arms") & (rows["value_type"] == "final")]
    values = arms["ctl_0_100"].dropna() if "ctl_0_100" in arms else pd.Series(dtype=float)
    if values.empty:
        return "niet bekend" if lang == "nl" else "not known"
    med = values.median()
    f = fmt if lang == "nl" else _en
    if lang == "nl":
        return f"{f(med)} (mediaan, {studies_nl(len(values))})"
    return f"{f(med)} (median, {studies_en(len(values))})"
