"""The GRADE part of a population's section, as the reader sees it: the Summary of
Findings table, the GRADE evidence profile, the GRADE conclusions in ZIN's style, harms,
the tipping points and the draft conclusion with every step of ZIN's rule.

The objects come from :mod:`duiding.grade`; this module only words and lays them out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..grade import (
    CERTAINTY,
    DOMAINS,
    Conclusion,
    GradedOutcome,
    HarmsSummary,
    PopulationAssessment,
    SofTable,
    TippingPoint,
    evidence_profile,
    load_rules,
)
from . import blocks as b
from .text import (
    certainty_label,
    count,
    design_label,
    effect_ci,
    label,
    labels,
    num,
    outcome_name,
    outcome_window,
    phrase,
    reason_text,
    relevance_wording,
    rule_by_design,
    shortest,
    step_text,
    studies,
    verdict,
)


def symbols() -> dict[int, str]:
    return {v: level.symbol for v, level in load_rules().levels.items()}


def sof_blocks(pa: PopulationAssessment, table: SofTable) -> list[b.Block]:
    levels = load_rules().levels
    population = pa.population
    rows = []
    for r in table.rows:
        smd = r.measure == "SMD"  # no instrument range known: the SMD analysis stands in
        scale = "SMD" if smd else "0-100"
        outcome = f"{outcome_name(r.outcome, population)}, {label('windows', r.window)}; {scale}"
        mid = pa.judgements.mid(r.outcome, r.measure)
        comment = phrase(label("sof_comments", relevance_wording(r.comment, r.ci_low, mid)), {"mid": -mid})
        if r.certainty is None:
            rows.append([outcome, "–", "–", "0 (0)", "–", comment])
            continue
        control = "niet bekend"
        if r.control_median is not None:
            control = f"{num(r.control_median)} (mediaan over {studies(r.control_studies)})"
        effect = "niet gepoold"
        if r.estimate is not None:
            effect = f"{'SMD' if smd else 'MD'} {effect_ci(r.estimate, r.ci_low, r.ci_high, 2 if smd else 1)}"
        n = f"{'≥ ' if not r.participants_complete else ''}{r.participants:,} ({r.k})".replace(",", ".")
        if r.participants == 0 and not r.participants_complete:
            n = f"niet bekend ({r.k})"
        marks = f" {','.join(str(m) for m in r.notes)}" if r.notes else ""
        certainty = f"{levels[r.certainty].symbol} {certainty_label(r.certainty)}{marks}"
        extra = []
        if r.policy not in ("standard", "none", "single_study", "qualitative"):
            extra.append(label("policies", r.policy))
        if r.substitutes:
            extra.append(f"vervangende uitkomstmaat: {', '.join(r.substitutes)}")
        if r.baseline_flags:
            extra.append(f"eindwaarden bij ongelijke uitgangswaarden: {', '.join(r.baseline_flags)}")
        if smd:
            extra.append("SMD: het bereik van de instrumenten is niet bekend, geen analyse op 0-100 mogelijk")
        if r.unpooled:
            tally = ", ".join(f"{n} {label('directions_short', d)}" for d, n in r.unpooled)
            extra.append(f"daarnaast niet gepoold: {tally}")
        rows.append([outcome, control, effect, n, certainty, "; ".join([comment, *extra])])
    # Footnotes of a row that is not pooled judge the plain random-effects fit: say so.
    unpooled = {n for r in table.rows if r.estimate is None for n in r.notes}
    notes = [footnote(f, unpooled=i in unpooled) for i, f in enumerate(table.footnotes, 1)]
    j = pa.judgements
    thresholds = "; ".join(
        f"{outcome_name(o, population).lower()}: {shortest(t['MD100'])} punten op 0-100, SMD {shortest(t['SMD'])} "
        f"({t['source']})"
        for o, t in j.thresholds.items()
    )
    caption = (
        "Fysio- en oefentherapie versus gebruikelijke zorg, geen behandeling, minimale interventie of "
        "schijnbehandeling (gepoold)"
    )
    after = (
        f"Klinische relevantiegrenzen: {thresholds}. Zekerheid: GRADE, start hoog voor gerandomiseerde studies; "
        f"afwaarderingen met reden in de voetnoten; oordelen van de beoordelaar uit {j.display_path} zijn als zodanig "
        "gemarkeerd. Gemiddelde in de controlegroep: op 0-100, 0 = beste score."
    )
    columns = [
        "Uitkomst",
        "Gemiddelde in de controlegroep",
        "Effect (95%-BI)",
        "Deelnemers (studies)",
        "Zekerheid",
        "Opmerkingen",
    ]
    return [
        b.Heading("Samenvatting van de bevindingen (GRADE)", 3, f"sof-{population}"),
        b.Table(columns, rows, caption=caption, footnotes=notes),
        b.Paragraph(after),
    ]


def footnote(f: Any, unpooled: bool = False) -> str:
    """'Risico op bias: 1 niveau afgewaardeerd — ernstig: …' (assessor's judgement marked).

    ``unpooled``: the row shows no pooled estimate, so an interval in the reason is that of
    the random-effects fit given for information only (see the policy's caveat)."""
    levels = abs(f.rating.level)
    name = label("domains", f.domain).capitalize()
    why = reason_text(f.rating.reason)
    if unpooled and f.domain == "imprecision":
        why = f"{why} (interval van de random-effects-fit, alleen ter informatie)"
    out = f"{name}: {levels} niveau{'s' if levels != 1 else ''} afgewaardeerd — {why}"
    if f.rating.overridden:
        out += f" [oordeel beoordelaar, suggestie was {f.rating.suggested}: {f.rating.override_reason}]"
    return out


def profile_blocks(pa: PopulationAssessment) -> list[b.Block]:
    """The GRADE evidence profile in GRADEpro's layout, one row per outcome and window."""
    rows = []
    for p in evidence_profile(pa):
        name = outcome_window(p.outcome, p.window, pa.population)
        if p.certainty is None:
            rows.append([name, "0", *["–"] * len(DOMAINS), "–", "–", "–", label("importance", p.importance)])
            continue
        domains = [
            label("profile_levels", p.domains[d]) + (" (beoordelaar)" if d in p.overridden else "") for d in DOMAINS
        ]
        arms = f"{p.n_int:,} / {p.n_ctl:,}".replace(",", ".") + ("" if p.complete else " (niet alle bekend)")
        effect = "niet gepoold"
        if p.estimate is not None:
            smd = p.measure == "SMD"
            effect = f"{'SMD' if smd else 'MD'} {effect_ci(p.estimate, p.ci_low, p.ci_high, 2 if smd else 1)}"
        certainty = f"{symbols()[p.certainty]} {certainty_label(p.certainty)}"
        rows.append([name, rcts(p.k), *domains, arms, effect, certainty, label("importance", p.importance)])
    columns = [
        "Uitkomst",
        "Studies",
        *(label("domains", d).capitalize() for d in DOMAINS),
        "Deelnemers therapie / controle",
        "Effect (95%-BI), 0-100",
        "Zekerheid",
        "Belang",
    ]
    caption = "GRADE-evidenceprofiel (opbouw als GRADEpro): oordeel per domein, deelnemers, effect en zekerheid"
    return [
        b.Heading("GRADE-evidenceprofiel", 3, f"profile-{pa.population}"),
        b.Table(columns, rows, caption=caption),
    ]


def rcts(k: int) -> str:
    """'1 RCT', '8 RCT's'."""
    return f"{k} RCT" if k == 1 else f"{k} RCT's"


def grade_statements(pa: PopulationAssessment) -> list[b.Block]:
    """'Redelijk GRADE — Fysio- en oefentherapie verminderen waarschijnlijk …', per outcome."""
    words = labels()["grade_statements"]
    items = []
    for o in pa.headline:
        if o.grading is None:
            continue
        items.append(grade_statement(o, words))
    if not items:
        return []
    return [b.Heading("Conclusies per uitkomstmaat (GRADE)", 3, f"grade-{pa.population}"), b.Bullets(items)]


def grade_statement(o: GradedOutcome, words: dict[str, Any]) -> str:
    assert o.grading is not None
    certainty = o.grading.certainty
    bare = outcome_name(o.spec.outcome, o.spec.population).lower()
    verb = words["verbs"][o.spec.outcome]
    values = {
        "bare": bare,
        "object": f"{verb['article']} {bare}",
        "verb": verb["verb"],
        "window": label("windows", o.spec.window),
        "hedge": words["hedges"].get(certainty, ""),
    }
    key = relevance_wording(o.relevance, None if o.result is None else o.result.ci_low, o.mid)
    if certainty == 1 and key != "not_pooled":
        key = "very_low"
    sentence = phrase(words[key], values)
    studies = ", ".join(o.analysis.selection.rows["study_id"])
    return f"{certainty_label(certainty)} GRADE — {sentence}. {phrase(words['sources'], {'studies': studies})}"


def harms_blocks(harms: HarmsSummary) -> list[b.Block]:
    """What the trials report on harms, study by study, with the summary for ZIN's rule."""
    heading = b.Heading("Bijwerkingen en schade", 3, f"harms-{harms.population}")
    if harms.rows.empty:
        return [heading, b.Paragraph("Geen van de studies in de evidence base rapporteert over bijwerkingen.")]
    rows = []
    for _, h in harms.rows.sort_values(["study_id", "harm_id"]).iterrows():
        counts = "–"
        if pd.notna(h["events_int"]) and pd.notna(h["events_ctl"]):
            n_int = "?" if pd.isna(h["n_int"]) else count(h["n_int"])
            n_ctl = "?" if pd.isna(h["n_ctl"]) else count(h["n_ctl"])
            counts = f"{count(h['events_int'])}/{n_int} vs {count(h['events_ctl'])}/{n_ctl}"
        # attribution belongs to events that were reported; "none" rows carry no attribution
        reported = h["finding"] == "reported"
        related = label("harm_related", h["related"]) if reported and pd.notna(h["related"]) else "–"
        finding = label("harm_findings", h["finding"])
        rows.append([h["study_id"], label("harm_severity", h["severity"]), finding, related, counts, h["excerpt"]])
    summary = (
        f"{len(harms.studies_reporting)} studies rapporteren over bijwerkingen; "
        f"{len(harms.studies_no_events)} melden geen (ernstige) bijwerkingen; "
        f"{len(harms.studies_serious_related)} melden een ernstige bijwerking die aan de therapie wordt toegeschreven; "
        f"{len(harms.studies_serious_unclear)} een ernstige gebeurtenis zonder duidelijke toeschrijving. "
        f"Voor de regel van ZIN: {label('harms_levels', harms.level)}."
    )
    columns = [
        "Studie",
        "Ernst",
        "Bevinding",
        "Toegeschreven aan therapie",
        "Aantallen (therapie vs controle)",
        "Bronfragment (letterlijk, Engels)",
    ]
    langs = [None] * 5 + ["en"]
    table = b.Table(columns, rows, caption="Bijwerkingen zoals gerapporteerd", langs=langs)
    return [heading, b.Paragraph(summary), table]


def tipping_blocks(pa: PopulationAssessment, points: list[TippingPoint]) -> list[b.Block]:
    """Which single choice would flip the draft conclusion, and at what value."""
    if not points:
        return []
    now = verdict(points[0].meets_now)
    rows = [[_choice(pa, p), _value(p, p.current), _flips(p)] for p in points]
    intro = (
        f"Kantelpunten: welke ene keuze van de beoordelaar de conceptconclusie ('{now}') zou omdraaien, en bij welke "
        "waarde. Elke keuze is afzonderlijk gewijzigd en de hele beoordeling opnieuw berekend (de relevantiegrens in "
        "stappen van 0,5 van 1 tot 30 punten op 0-100)."
    )
    return [
        b.Heading("Kantelpunten", 3, f"tipping-{pa.population}"),
        b.Paragraph(intro),
        b.Table(["Keuze", "Huidige waarde", "Conclusie draait om bij"], rows, caption="Kantelpunten"),
    ]


def tipping_lines(pa: PopulationAssessment, points: list[TippingPoint]) -> list[str]:
    """One sentence per choice that flips the conclusion (for the conclusion chapter)."""
    return [
        f"{_choice(pa, p)}: nu {_value(p, p.current)}; de conclusie draait om bij {_flips(p)}."
        for p in points
        if not p.robust
    ]


def crucial_statements(pa: PopulationAssessment) -> list[str]:
    """The GRADE conclusions on the crucial outcomes (for the summary)."""
    words = labels()["grade_statements"]
    crucial = set(pa.judgements.crucial_outcomes)
    return [grade_statement(o, words) for o in pa.headline if o.grading is not None and o.spec.outcome in crucial]


def _choice(pa: PopulationAssessment, p: TippingPoint) -> str:
    outcome = outcome_name(p.outcome, pa.population).lower() if p.outcome else ""
    return phrase(label("tipping_choices", p.choice), {"outcome": outcome})


def _value(p: TippingPoint, value: Any) -> str:
    if p.choice == "threshold":
        return shortest(float(value))
    if p.choice == "certainty_needed":
        return certainty_label(CERTAINTY[value]).lower()
    return label("tipping_values", value)


def _flips(p: TippingPoint) -> str:
    if p.robust:
        return "kantelt niet (grens 1 tot 30)" if p.choice == "threshold" else "kantelt niet"
    if p.choice == "threshold":
        runs = p.ranges()
        return "; ".join(shortest(a) if a == z else f"{shortest(a)} tot {shortest(z)}" for a, z in runs)
    return ", ".join(_value(p, v) for v in p.flips_at)


def conclusion_blocks(pa: PopulationAssessment, c: Conclusion) -> list[b.Block]:
    designs = ", ".join(f"{design_label('designs', k)}: {v}" for k, v in sorted(pa.design_counts.items()))
    design_text = (
        f"Opzet van de vergelijkingen (studies per type, zoals de regel ze leest): {designs}. {rule_by_design()}"
    )
    return [
        b.Heading("Beoordeling en conceptconclusie", 3, f"concl-{pa.population}"),
        b.Paragraph(
            f"Conceptconclusie: fysio- en oefentherapie {verdict(c.meets, c.designs_met)} voor deze populatie.",
            "banner",
        ),
        b.Bullets([step_text(s, symbols()) for s in c.steps]),
        b.Paragraph(design_text),
    ]
