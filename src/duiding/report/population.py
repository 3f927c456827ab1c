"""The report section of one population: studies, each analysis with its forest plot and
sensitivity table, risk of bias, the review cross-check, and the GRADE part (SoF table,
evidence profile, GRADE conclusions, harms, tipping points, draft conclusion).

Every number in the text is taken from the computed objects, never typed into prose.
"""

from __future__ import annotations

import pandas as pd

from ..evidence import EvidenceBase
from ..grade import (
    Conclusion,
    GradedOutcome,
    OutcomeAnalysis,
    PopulationAssessment,
    TippingPoint,
    conclude,
    harms_summary,
    leave_one_out_range,
    sof_table,
)
from ..meta import MetaResult
from . import blocks as b
from .crosscheck import review_crosscheck
from .figures import baujat_plot, cumulative_plot, forest_plot, funnel_plot, rob_summary
from .grading import conclusion_blocks, grade_statements, harms_blocks, profile_blocks, sof_blocks, tipping_blocks
from .text import (
    count,
    country,
    design_label,
    i2_text,
    label,
    labels,
    num,
    outcome_window,
    p_value,
    phrase,
    shortest,
    studies,
)

SCALE_MD100 = "Gemiddeld verschil op 0-100 (negatief = voordeel therapie)"


def ci(r: MetaResult, digits: int = 1) -> str:
    return f"{num(r.estimate, digits)} (95%-BI {num(r.ci_low, digits)} tot {num(r.ci_high, digits)})"


def population_section(
    ev: EvidenceBase,
    pa: PopulationAssessment,
    conclusion: Conclusion | None = None,
    tipping: list[TippingPoint] | None = None,
) -> list[b.Block]:
    """The whole section; ``conclusion`` and ``tipping`` where the caller computed them."""
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
            b.Figure(png, caption, f"Risico-op-bias-overzicht, {label('populations_short', population)}"),
        ]
    out += review_crosscheck(pa)
    out += sof_blocks(pa, sof_table(pa))
    out += profile_blocks(pa)
    out += grade_statements(pa)
    out += harms_blocks(harms_summary(ev, population))
    if tipping is not None:
        out += tipping_blocks(pa, tipping)
    out += conclusion_blocks(pa, conclusion or conclude(pa))
    return out


def rob_text(pa: PopulationAssessment, study: str) -> str:
    rob = pa.robs.get(study)
    if rob is None:
        return label("rob_judgements", "not assessed")
    basis = phrase(label("rob_basis", rob.basis), {"score": rob.domains.get("total", "")})
    return f"{label('rob_judgements', rob.overall)} ({basis})"


def studies_blocks(ev: EvidenceBase, pa: PopulationAssessment) -> list[b.Block]:
    population = pa.population
    every = ev.of("studies", population).sort_values("study_id")
    # Studies excluded after full-text assessment stay in the evidence base (with their
    # reason), but are not counted or listed as included: the count agrees with the PRISMA flow.
    st = every[every["eligibility"] != "exclude"]
    excluded = every[every["eligibility"] == "exclude"]
    res = ev.of("results", population)
    comparators = res.groupby("study_id")["comparator_type"].agg(
        lambda s: ", ".join(sorted({label("comparators", c) for c in s}))
    )
    rows = []
    for _, s in st.iterrows():
        fit = label("eligibility", s["eligibility"])
        note = s["eligibility_note"] if pd.notna(s["eligibility_note"]) else ""
        n = "" if pd.isna(s["n_randomised"]) else count(s["n_randomised"])
        condition = label("conditions", s["condition"])
        comparator = comparators.get(s["study_id"], "")
        row = [s["study_id"], country(s["country"]), condition, s["intervention"], comparator, n, fit, note]
        rows.append([*row, rob_text(pa, s["study_id"])])
    intro = (
        f"{len(st)} geïncludeerde studies voor deze populatie (zoals in het PRISMA-stroomdiagram); per studie de "
        "interventie, "
        "vergelijking(en), aantal gerandomiseerde deelnemers, passendheid binnen de PICO en risico op bias. "
        "De beschrijving van de interventie en de toelichting op de PICO zijn in het Engels overgenomen uit de "
        "extractie."
    )
    columns = [
        "Studie",
        "Land",
        "Aandoening",
        "Interventie (Engels)",
        "Vergelijking",
        "N",
        "PICO",
        "Toelichting (Engels)",
        "Risico op bias",
    ]
    langs = [None, None, None, "en", None, None, None, "en", None]
    out: list[b.Block] = [
        b.Heading("Geïncludeerde studies", 3),
        b.Paragraph(intro),
        b.Table(columns, rows, interactive=True, table_id=f"studies-{population}", langs=langs),
    ]
    if len(excluded):
        out.append(excluded_studies_table(excluded))
    return out


def excluded_studies_table(excluded: pd.DataFrame) -> b.Table:
    """Studies in the evidence base that the full-text assessment excluded, with the reason."""
    rows = [
        [s["study_id"], s["eligibility_note"] if pd.notna(s["eligibility_note"]) else ""]
        for _, s in excluded.iterrows()
    ]
    caption = (
        "In de evidence base bewaard, na beoordeling van de volledige tekst geëxcludeerd; deze studies tellen niet "
        "mee in de analyses"
    )
    return b.Table(["Studie", "Reden van exclusie (Engels)"], rows, caption=caption, langs=[None, "en"])


def outcome_blocks(o: GradedOutcome, alt: GradedOutcome, pa: PopulationAssessment) -> list[b.Block]:
    title = outcome_window(o.spec.outcome, o.spec.window, pa.population)
    out: list[b.Block] = [b.Heading(title, 3, f"{pa.population}-{o.spec.outcome}-{o.spec.window}")]
    a, r = o.analysis, o.result
    fit = r or a.plain
    if fit is None and alt.result is not None:
        # no instrument range known: the SMD analysis stands in (SoF, profile, conclusion)
        r_alt = alt.result
        out.append(
            b.Paragraph(
                "Geen studie met een bekend bereik van het instrument, dus geen analyse op 0-100. De SMD-analyse staat "
                f"in voor deze uitkomst (ook in de SoF-tabel en de conclusie): SMD {num(r_alt.estimate, 2)} (95%-BI "
                f"{num(r_alt.ci_low, 2)} tot {num(r_alt.ci_high, 2)}), {studies(r_alt.k)} "
                f"({', '.join(r_alt.studies)}); {label('policies', alt.analysis.policy)}."
            )
        )
        out += unpooled_blocks(alt.analysis)
        return out
    if fit is None:
        out.append(
            b.Paragraph("Geen bruikbare resultaten voor deze uitkomst en termijn (zie bijlage B voor de redenen).")
        )
        out += selection_notes(a, alt.analysis)
        out += unpooled_blocks(a)
        return out
    out.append(b.Paragraph(headline_text(o)))
    if a.policy in ("fixed_effect", "modified_knapp_hartung", "qualitative"):
        out.append(b.Paragraph(labels()["policy_caveats"][a.policy]))
    if fit.k > 1:
        out.append(b.Paragraph(heterogeneity_text(a)))
    out += selection_notes(a, alt.analysis)
    derived = derived_sds(o)
    if derived:
        out.append(b.Paragraph(f"Standaarddeviaties afgeleid (Cochrane Handbook 6.5.2.2) voor: {derived}."))
    plot_title = f"{title}: MD op 0-100"
    png = forest_plot(fit, o.mid, pa.robs, plot_title, SCALE_MD100, pooled=r is not None)
    caption = f"Forest plot, {title.lower()}. Stippellijn: klinische relevantiegrens (−{shortest(o.mid)})."
    if r is None:
        caption += " De studies zijn niet gepoold (twee heterogene studies)."
    out.append(b.Figure(png, caption, f"Forest plot {plot_title}"))
    out.append(sensitivity_table(o, alt))
    out += unpooled_blocks(a)
    if r is None:
        return out
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


def unpooled_blocks(a: OutcomeAnalysis) -> list[b.Block]:
    """The synthesis without meta-analysis: studies in scope that could not be pooled,
    counted by the direction of their result (SWiM, Campbell et al. BMJ 2020; Cochrane
    Handbook 12.2.2.5: directions are counted, p-values never)."""
    u = a.unpooled
    if u.empty:
        return []
    tally = "; ".join(f"{label('directions', d)}: {n}" for d, n in a.selection.directions)
    text = (
        f"Synthese zonder meta-analyse (SWiM): {studies(len(u))} binnen de PICO en deze termijn met een resultaat "
        f"dat niet te poolen is, geteld naar de richting van het effect (niet naar p-waarden). "
        f"{tally[:1].upper()}{tally[1:]}."
    )
    if a.pooled and a.result is not None and a.result.ci_high < 0:
        text += (
            " Studies met geen duidelijk verschil of een voordeel voor de controlegroep wegen mee in het oordeel "
            "over inconsistentie."
        )
    rows = []
    for _, r in u.iterrows():
        weeks = "" if pd.isna(r["timepoint_weeks"]) else shortest(r["timepoint_weeks"])
        n = "" if pd.isna(r["n_int"]) or pd.isna(r["n_ctl"]) else f"{count(r['n_int'])} / {count(r['n_ctl'])}"
        rows.append(
            [
                r["study_id"],
                label("outcomes", r["outcome"]),  # the result's own outcome code
                weeks,
                label("data_forms", r["data_form"]),
                n,
                label("directions", r["direction_read"]),
            ]
        )
    columns = ["Studie", "Uitkomstmaat", "Weken", "Gegevens", "N (therapie / controle)", "Richting"]
    return [b.Paragraph(text), b.Table(columns, rows, caption="Niet-gepoolde studies naar richting van het effect")]


def headline_text(o: GradedOutcome) -> str:
    """The headline result with its model, and the plain random-effects fit beside it."""
    a, r = o.analysis, o.result
    plain = a.plain
    assert plain is not None
    policy = label("policies", a.policy)
    if r is None:
        return (
            f"{studies(plain.k)}; {policy}. Ter informatie, random effects met REML en Knapp-Hartung: "
            f"MD {ci(plain)} op 0-100. Negatief = in het voordeel van fysio- en oefentherapie."
        )
    model = policy if a.policy == "single_study" else f"{policy}; toets: {label('tests', r.test_used)}"
    text = (
        f"Hoofdanalyse: MD {ci(r)} op 0-100, {studies(r.k)}; {model}. "
        "Negatief = in het voordeel van fysio- en oefentherapie."
    )
    if a.policy not in ("standard", "single_study"):
        text += f" Zonder het beleid bij weinig studies, met random effects, REML en Knapp-Hartung: MD {ci(plain)}."
    return text


def heterogeneity_text(a: OutcomeAnalysis) -> str:
    """Heterogeneity of the plain random-effects fit (the one that estimates it)."""
    plain = a.plain
    assert plain is not None
    text = f"Heterogeniteit: I² = {i2_text(plain.i2)}%"
    confint = plain.confint()
    if pd.notna(confint.i2_low):
        text += f" (95%-BI {num(confint.i2_low, 0)} tot {num(confint.i2_high, 0)}%)"
    text += f", τ² = {num(plain.tau2, 2)}, Q = {num(plain.q, 2)} (p = {p_value(plain.q_pval)})."
    pred = plain.predict()
    if plain.k > 1 and pd.notna(pred.pi_low):
        text += f" 95%-predictie-interval {num(pred.pi_low)} tot {num(pred.pi_high)}."
    return text


def selection_notes(a: OutcomeAnalysis, alt: OutcomeAnalysis) -> list[b.Block]:
    """What the reader must know about the studies of this analysis: substitute outcomes,
    final values across a baseline imbalance, indirect studies left out, and where the SMD
    analysis takes other studies than the MD analysis (and why)."""
    rows, left = a.selection.rows, a.selection.excluded
    notes = []
    if a.k:
        substitutes = rows.loc[rows["substitute"].astype(bool)]
        if len(substitutes):
            used = ", ".join(f"{x.study_id} ({label('outcomes', x.outcome).lower()})" for x in substitutes.itertuples())
            notes.append(f"Vervangende uitkomstmaat (lager gewaardeerd op indirectheid): {used}.")
        flagged = rows.loc[rows["baseline_flag"].astype(bool), "study_id"]
        if len(flagged):
            notes.append(f"Eindwaarden bij ongelijke uitgangswaarden (gemarkeerd): {', '.join(flagged)}.")
    for reason, text in (
        (
            "baseline_imbalance",
            "Weggelaten: eindwaarden bij een verschil bij aanvang van ten minste de helft van de "
            "relevantiegrens (in de sensitiviteitsanalyse opgenomen)",
        ),
        ("indirect_left_out", "Weggelaten: indirecte studies (buiten de PICO; in de sensitiviteitsanalyse opgenomen)"),
    ):
        ids = sorted(set(left.loc[left["reason"] == reason, "study_id"]))
        if ids:
            notes.append(f"{text}: {', '.join(ids)}.")
    notes += smd_differences(a, alt)
    return [b.Paragraph(" ".join(notes))] if notes else []


def smd_differences(a: OutcomeAnalysis, alt: OutcomeAnalysis) -> list[str]:
    """Which studies the SMD analysis takes other than the MD analysis, with the reasons."""
    md, smd = set(a.selection.rows["study_id"]), set(alt.selection.rows["study_id"])
    if md == smd:
        return ["De SMD-analyse gebruikt dezelfde studies."] if md else []

    def why(selection_left: pd.DataFrame, study: str) -> str:
        reasons = selection_left.loc[selection_left["study_id"] == study, "reason"]
        codes = [c for c in reasons if c != "other_result"] or list(reasons)
        return label("exclusion_reasons", codes[0]) if codes else "geen resultaat in deze termijn"

    parts = []
    for study in sorted(md - smd):
        parts.append(f"{study} niet in de SMD-analyse ({why(alt.selection.excluded, study)})")
    for study in sorted(smd - md):
        parts.append(f"{study} alleen in de SMD-analyse ({why(a.selection.excluded, study)})")
    return [f"De SMD-analyse wijkt af van de MD-analyse: {'; '.join(parts)}."]


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


def row(name: str, r: MetaResult | None, digits: int = 1) -> list[str]:
    if r is None:
        return [name, "–", "–", "–"]
    return [name, ci(r, digits), str(r.k), f"{i2_text(r.i2)}%"]


def variant_row(name: str, base: OutcomeAnalysis, variant: OutcomeAnalysis | None) -> list[str] | None:
    """A selection variant's headline, only where it selects other studies than the base."""
    if variant is None:
        return None
    if set(variant.selection.rows["study_id"]) == set(base.selection.rows["study_id"]):
        return None
    fit = variant.result
    if fit is None and variant.k:
        return [f"{name}: {label('policies', variant.policy)}", "–", str(variant.k), "–"]
    return row(f"{name}: {label('policies', variant.policy)}", fit)


def sensitivity_table(o: GradedOutcome, alt: GradedOutcome) -> b.Table:
    a = o.analysis
    words = labels()["sensitivity"]
    rows = [row(phrase(words["headline"], {"policy": label("policies", a.policy)}), o.result)]
    if a.policy not in ("standard", "single_study"):
        rows.append(row(words["plain"], a.plain))
    if a.k > 1:
        rows += [row(words["fixed_effect"], a.fixed_effect), row(words["z_test"], a.z_test)]
    for name in ("with_indirect", "with_imbalanced"):
        extra = variant_row(words[name], a, a.variant(name))
        if extra:
            rows.append(extra)
    rows.append(row(words["low_rob_only"], a.low_rob_only))
    if len(a.designs.keys() & {"add_on", "replacement"}) == 2:
        for name in ("add_on", "replacement"):
            title = phrase(words[name], {"design": design_label("designs_short", name)})
            extra = variant_row(title, a, a.variant(name))
            if extra:
                rows.append(extra)
    fit = o.result or a.plain
    assert fit is not None
    spread = leave_one_out_range(fit)
    if spread:
        rows.append([words["leave_one_out"], f"{num(spread[0])} tot {num(spread[1])}", str(fit.k - 1), "–"])
    sub = a.comparator_subgroups
    if sub:
        for value, group in sub.groups:
            rows.append(row(phrase(words["subgroup"], {"name": label("comparators", value)}), group))
        test = f"Q = {num(sub.q_between, 2)}, df = {sub.df_between:.0f}, p = {p_value(sub.p_between)}"
        rows.append([words["subgroup_test"], test, "", ""])
    smd = alt.result or alt.analysis.plain
    if smd is not None:
        how = label("policies", alt.analysis.policy) + ("" if alt.result is not None else "; ter informatie")
        rows.append(row(f"{words['smd']}: {how}", smd, 2))
    caption = f"Sensitiviteitsanalyses, {outcome_window(o.spec.outcome, o.spec.window, o.spec.population).lower()}"
    return b.Table(["Analyse", "Effect (95%-BI)", "Studies", "I²"], rows, caption=caption)
