"""The report section of one population: studies, each analysis with its forest plot and
sensitivity table, risk of bias, the review cross-check, the SoF table and the conclusion.

Every number in the text is taken from the computed objects, never typed into prose.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..evidence import EvidenceBase, load_plan
from ..grade import (
    Conclusion,
    GradedOutcome,
    PopulationAssessment,
    SofTable,
    conclude,
    leave_one_out_range,
    load_rules,
    sof_table,
)
from ..meta import MetaResult
from . import blocks as b
from .figures import baujat_plot, cumulative_plot, forest_plot, funnel_plot, rob_summary
from .text import (
    certainty_label,
    label,
    num,
    outcome_window,
    p_value,
    phrase,
    reason_text,
    shortest,
    step_text,
    studies,
    verdict,
)

SCALE_MD100 = "Gemiddeld verschil op 0-100 (negatief = voordeel therapie)"


def ci(r: MetaResult) -> str:
    return f"{num(r.estimate)} (95%-BI {num(r.ci_low)} tot {num(r.ci_high)})"


def population_section(ev: EvidenceBase, pa: PopulationAssessment) -> list[b.Block]:
    population = pa.population
    heading = f"Resultaten: {label('populations', population).lower()}"
    out: list[b.Block] = [b.Heading(heading, 2, f"res-{population}")]
    out += studies_blocks(ev, pa)
    for o, alt in zip(pa.outcomes, pa.alternative, strict=True):
        out += outcome_blocks(o, alt, pa)
    png = rob_summary(pa.robs, sorted(pa.robs))
    if png:
        caption = (
            "Risico op bias per studie: domeinen van het gebruikte instrument en het totaaloordeel "
            "(groen laag, geel enige zorgen/onduidelijk, rood hoog; PEDro-score in de cel)."
        )
        out += [
            b.Heading("Risico op bias per studie", 3),
            b.Figure(png, caption, f"Risico-op-bias-overzicht {population}"),
        ]
    out += review_crosscheck(ev, pa)
    out += sof_blocks(pa, sof_table(pa))
    out += conclusion_blocks(pa, conclude(pa))
    return out


def rob_text(pa: PopulationAssessment, study: str) -> str:
    rob = pa.robs.get(study)
    if rob is None:
        return label("rob_judgements", "not assessed")
    basis = phrase(label("rob_basis", rob.basis), {"score": rob.domains.get("total", "")})
    return f"{label('rob_judgements', rob.overall)} ({basis})"


def studies_blocks(ev: EvidenceBase, pa: PopulationAssessment) -> list[b.Block]:
    population = pa.population
    st = ev.of("studies", population).sort_values("study_id")
    res = ev.of("results", population)
    comparators = res.groupby("study_id")["comparator_type"].agg(
        lambda s: ", ".join(sorted({label("comparators", c) for c in s}))
    )
    rows = []
    for _, s in st.iterrows():
        fit = label("eligibility", s["eligibility"])
        if pd.notna(s["eligibility_note"]):
            fit += f": {s['eligibility_note']}"
        n = "" if pd.isna(s["n_randomised"]) else f"{s['n_randomised']:.0f}"
        condition = label("conditions", s["condition"])
        comparator = comparators.get(s["study_id"], "")
        row = [s["study_id"], s["country"], condition, s["intervention"], comparator, n, fit]
        rows.append([*row, rob_text(pa, s["study_id"])])
    intro = (
        f"{len(st)} studies in de evidence base voor deze populatie; per studie de interventie, "
        "vergelijking(en), aantal gerandomiseerde deelnemers, passendheid binnen de PICO en risico op bias."
    )
    columns = ["Studie", "Land", "Aandoening", "Interventie", "Vergelijking", "N", "PICO", "Risico op bias"]
    return [
        b.Heading("Geïncludeerde studies", 3),
        b.Paragraph(intro),
        b.Table(columns, rows, interactive=True, table_id=f"studies-{population}"),
    ]


def outcome_blocks(o: GradedOutcome, alt: GradedOutcome, pa: PopulationAssessment) -> list[b.Block]:
    title = outcome_window(o.spec.outcome, o.spec.window)
    out: list[b.Block] = [b.Heading(title, 3, f"{pa.population}-{o.spec.outcome}-{o.spec.window}")]
    r = o.result
    if r is None:
        out.append(
            b.Paragraph("Geen bruikbare resultaten voor deze uitkomst en termijn (zie bijlage B voor de redenen).")
        )
        return out
    confint = r.confint()
    summary = (
        f"Gepoold {label('measures', 'MD100')}: {ci(r)}, {studies(r.k)}, random-effects "
        f"({o.spec.method}, {label('tests', r.test_used)}). Negatief = in het voordeel van fysio-/oefentherapie. "
        f"Heterogeniteit: I² = {num(r.i2, 0)}%"
    )
    if pd.notna(confint.i2_low):
        summary += f" (95%-BI {num(confint.i2_low, 0)} tot {num(confint.i2_high, 0)}%)"
    summary += f", τ² = {num(r.tau2, 2)}, Q = {num(r.q, 2)} (p = {p_value(r.q_pval)})."
    pred = r.predict()
    if r.k > 1 and pd.notna(pred.pi_low):
        summary += f" 95%-predictie-interval {num(pred.pi_low)} tot {num(pred.pi_high)}."
    out.append(b.Paragraph(summary))
    derived = derived_sds(o)
    if derived:
        out.append(b.Paragraph(f"Standaarddeviaties afgeleid (Cochrane Handbook 6.5.2.2) voor: {derived}."))
    plot_title = f"{title}: MD op 0-100"
    png = forest_plot(r, o.mid, pa.robs, plot_title, SCALE_MD100)
    caption = f"Forest plot, {title.lower()}. Stippellijn: klinische relevantiegrens (−{shortest(o.mid)})."
    out.append(b.Figure(png, caption, f"Forest plot {plot_title}"))
    out.append(sensitivity_table(o, alt))
    out += cumulative_blocks(o, pa, title)
    if r.k >= INFLUENCE_MIN_K:
        out += influence_blocks(r, title)
    if r.k >= 10:
        caption = (
            "Funnel plot met contouren (alleen bij ten minste 10 studies): in de grijze gebieden zou een studie op "
            "zichzelf significant zijn (p < 0,10, 0,05, 0,01). Asymmetrie in de grijze gebieden wijst op "
            "publicatiebias, asymmetrie daarbuiten op andere small-study-effecten."
        )
        out.append(b.Figure(funnel_plot(r, f"Funnel plot, {title.lower()}"), caption, f"Funnel plot {title}"))
    return out


INFLUENCE_MIN_K = 5


def cumulative_blocks(o: GradedOutcome, pa: PopulationAssessment, title: str) -> list[b.Block]:
    """The cumulative meta-analysis by publication year (metafor's ``cumul``)."""
    r = o.result
    if r is None or r.k < 2:
        return []
    year = pa.evidence.of("studies", pa.population).set_index("study_id")["year"]
    years = [float(year[s]) for s in r.studies]
    png = cumulative_plot(r, years, f"{title}: cumulatief naar publicatiejaar", o.mid)
    caption = (
        f"Cumulatieve meta-analyse, {title.lower()}: de gepoolde schatting na het toevoegen van elke studie, "
        "in volgorde van publicatiejaar (zelfde model als de hoofdanalyse)."
    )
    return [b.Figure(png, caption, f"Cumulatieve meta-analyse {title}")]


def influence_blocks(r: MetaResult, title: str) -> list[b.Block]:
    """Influence diagnostics per study and the Baujat plot (from 5 studies)."""
    inf = r.influence()
    if inf is None:
        return []
    rows = []
    for i, study in enumerate(r.studies):
        values = [inf.rstudent[i], inf.dffits[i], inf.cook_d[i], inf.cov_r[i], inf.tau2_del[i], inf.hat[i]]
        rows.append([study, *(num(v, 2) for v in values), num(inf.weight[i]), "ja" if inf.influential[i] else ""])
    columns = [
        "Studie",
        "Gestand. residu",
        "DFFITS",
        "Cook",
        "Cov.-ratio",
        "τ² zonder",
        "Hat",
        "Gewicht %",
        "Invloedrijk",
    ]
    caption = (
        f"Invloedsanalyse, {title.lower()} (metafor influence; invloedrijk volgens de regels van metafor: |DFFITS| > "
        "3√(1/(k−1)), Cook > mediaan χ²₁, hat > 3/k of |DFBETAS| > 1)"
    )
    png = baujat_plot(r, f"Baujat-plot, {title.lower()}")
    note = "Baujat-plot: bijdrage van elke studie aan de heterogeniteit tegen haar invloed op de gepoolde schatting."
    return [b.Table(columns, rows, caption=caption), b.Figure(png, note, f"Baujat-plot {title}")]


def derived_sds(o: GradedOutcome) -> str:
    """'result (how the SD was obtained)' for every chosen result whose SD was derived."""
    rows = o.analysis.selection.rows
    parts = []
    for x in rows.itertuples():
        hows = sorted({h for h in (x.sd_int_how, x.sd_ctl_how) if h and h != "reported"})
        if x.effect_basis == "arms" and hows:
            parts.append(f"{x.result_id} ({'; '.join(label('sd_how', h) for h in hows)})")
    return "; ".join(parts)


def row(name: str, r: MetaResult | None) -> list[str]:
    if r is None:
        return [name, "–", "–", "–"]
    return [name, ci(r), str(r.k), f"{num(r.i2, 0)}%"]


def sensitivity_table(o: GradedOutcome, alt: GradedOutcome) -> b.Table:
    a = o.analysis
    rows = [
        row("Hoofdanalyse", o.result),
        row("Fixed effect (inverse variantie)", a.fixed_effect),
        row("Random effects met z-toets", a.z_test),
        row("Alleen studies die direct binnen de PICO passen", a.direct_only),
        row("Alleen studies met laag risico op bias", a.low_rob_only),
    ]
    assert o.result is not None
    spread = leave_one_out_range(o.result)
    if spread:
        rows.append(
            ["Leave-one-out (bereik van de schattingen)", f"{num(spread[0])} tot {num(spread[1])}", str(o.k - 1), "–"]
        )
    sub = a.comparator_subgroups
    if sub:
        for value, fit in sub.groups:
            rows.append(row(f"Subgroep (z-toets): {label('comparators', value)}", fit))
        test = f"Q = {num(sub.q_between, 2)}, df = {sub.df_between:.0f}, p = {p_value(sub.p_between)}"
        rows.append(["Toets op subgroepverschillen", test, "", ""])
    if alt.result is not None:
        name = f"Alternatieve analyse: SMD (Hedges' g; {studies(alt.k)} met SD's)"
        rows.append([name, ci(alt.result), str(alt.k), f"{num(alt.result.i2, 0)}%"])
    caption = f"Sensitiviteitsanalyses, {outcome_window(o.spec.outcome, o.spec.window).lower()}"
    return b.Table(["Analyse", "Effect (95%-BI)", "Studies", "I²"], rows, caption=caption)


def review_crosscheck(ev: EvidenceBase, pa: PopulationAssessment) -> list[b.Block]:
    rr = ev.of("review_results", pa.population)
    if rr.empty:
        return []
    rows = []
    for _, r in rr.iterrows():
        effect = (
            f"{r['effect']:g} ({r['ci_low']:g} tot {r['ci_high']:g})" if pd.notna(r["ci_low"]) else f"{r['effect']:g}"
        )
        note = r["timepoint_note"]
        rows.append(
            [
                r["review_id"],
                r["comparison"],
                r["outcome"],
                note,
                r["effect_measure"],
                effect,
                r["effect_definition"],
                comparable(pa, r),
            ]
        )
    intro = (
        "Review-resultaten zoals gepubliceerd (richting volgens de kolom 'definitie'), naast onze schatting voor "
        "dezelfde uitkomst en termijn waar die te koppelen is. Verschillen komen door andere studiesets, "
        "vergelijkingen en maten."
    )
    columns = ["Review", "Vergelijking", "Uitkomst", "Termijn", "Maat", "Review: effect (95%-BI)", "Definitie"]
    return [
        b.Heading("Vergelijking met gepoolde resultaten uit reviews", 3),
        b.Paragraph(intro),
        b.Table([*columns, "Onze schatting (zelfde maat)"], rows),
    ]


def comparable(pa: PopulationAssessment, review: pd.Series) -> str:
    plan = load_plan()
    outcome = {"pain": "pain", "back_pain": "pain", "leg_pain": "pain", "function": "function"}.get(review["outcome"])
    window = plan.window_of(review["timepoint_weeks"])
    if outcome is None or window is None or review["effect_measure"] not in ("SMD", "MD"):
        return "niet te koppelen"
    pool = pa.alternative if review["effect_measure"] == "SMD" else pa.outcomes
    match = next((o for o in pool if o.spec.outcome == outcome and o.spec.window == window), None)
    if match is None or match.result is None:
        return "geen eigen schatting"
    return f"{'SMD' if review['effect_measure'] == 'SMD' else 'MD 0-100'} {ci(match.result)} (negatief = voordeel)"


def sof_blocks(pa: PopulationAssessment, table: SofTable) -> list[b.Block]:
    levels = load_rules().levels
    rows = []
    for r in table.rows:
        outcome = f"{label('outcomes', r.outcome)} (0-100; {label('windows', r.window)})"
        if r.estimate is None:
            rows.append([outcome, "–", label("sof_comments", "no_studies"), "0 (0)", "–", ""])
            continue
        control = (
            "niet bekend"
            if r.control_median is None
            else f"{num(r.control_median)} (mediaan, {studies(r.control_studies)})"
        )
        effect = f"MD {num(r.estimate)} ({num(r.ci_low)} tot {num(r.ci_high)})"
        n = f"{'' if r.participants_complete else '≥ '}{r.participants} ({r.k})"
        assert r.certainty is not None
        marks = f" {','.join(str(m) for m in r.notes)}" if r.notes else ""
        certainty = f"{levels[r.certainty].symbol} {certainty_label(r.certainty)}{marks}"
        mid = pa.judgements.mid(r.outcome, r.measure)
        rows.append([outcome, control, effect, n, certainty, phrase(label("sof_comments", r.comment), {"mid": mid})])
    notes = [footnote(f) for f in table.footnotes]
    j = pa.judgements
    thresholds = "; ".join(
        f"{o}: {shortest(t['MD100'])} punten op 0-100, SMD {shortest(t['SMD'])} ({t['source']})"
        for o, t in j.thresholds.items()
    )
    caption = (
        "Fysio-/oefentherapie versus gebruikelijke zorg, geen behandeling, minimale interventie of "
        "schijnbehandeling (gepoold)"
    )
    after = (
        f"Klinische relevantiegrenzen: {thresholds}. Zekerheid: GRADE, start hoog voor gerandomiseerde studies; "
        f"afwaarderingen met reden in de voetnoten; oordelen van de beoordelaar uit {j.display_path} zijn als zodanig "
        "gemarkeerd."
    )
    columns = [
        "Uitkomst",
        "Gemiddelde controlegroep",
        "Effect (95%-BI)",
        "Deelnemers (studies)",
        "Zekerheid",
        "Opmerkingen",
    ]
    return [
        b.Heading("Samenvatting van de bevindingen (GRADE)", 3, f"sof-{pa.population}"),
        b.Table(columns, rows, caption=caption, footnotes=notes),
        b.Paragraph(after),
    ]


def footnote(f: Any) -> str:
    """'Risico op bias: 1 niveau afgewaardeerd — ernstig: …' (assessor's judgement marked)."""
    levels = abs(f.rating.level)
    name = label("domains", f.domain).capitalize()
    out = f"{name}: {levels} niveau{'s' if levels != 1 else ''} afgewaardeerd — {reason_text(f.rating.reason)}"
    if f.rating.overridden:
        out += f" [oordeel beoordelaar, suggestie was {f.rating.suggested}: {f.rating.override_reason}]"
    return out


def conclusion_blocks(pa: PopulationAssessment, c: Conclusion) -> list[b.Block]:
    symbols = {v: level.symbol for v, level in load_rules().levels.items()}
    designs = ", ".join(f"{label('designs', k)}: {v}" for k, v in sorted(pa.design_counts.items()))
    design_text = (
        f"Opzet van de vergelijkingen (studies per type): {designs}. Bij add-on (therapie bovenop "
        "gebruikelijke zorg) vraagt ZIN om meerwaarde; bij vervanging om gelijke waarde."
    )
    return [
        b.Heading("Beoordeling en conceptconclusie", 3, f"concl-{pa.population}"),
        b.Paragraph(f"Conceptconclusie: fysio- en oefentherapie {verdict(c.meets)} voor deze populatie.", "banner"),
        b.Bullets([step_text(s, symbols) for s in c.steps]),
        b.Paragraph(design_text),
    ]
