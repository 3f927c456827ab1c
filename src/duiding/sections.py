"""The report's sections as blocks: one per population (results, GRADE, conclusion) and the
evidence appendix. Notebooks call these and save the blocks; every number in the text is
taken from the computed results, never typed into a template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from . import blocks as b
from .assessment import Outcome, PopulationAssessment, sof_table
from .config import load_config
from .evidence import EvidenceBase, load_evidence
from .extraction import extract
from .figures import forest_plot, funnel_plot, rob_summary
from .formatting import g_nl, nl, studies_nl
from .synthesis import all_specs, select, study_robs

POPULATION_LABELS = {
    "nonspecific": "Aspecifieke lage rugklachten, met of zonder uitstralende pijn in het been",
    "radicular": "Lumbale hernia of stenose met uitstralende pijn in het been (lumbosacraal radiculair syndroom)",
    "postsurgery": "Volwassenen na een lumbale wervelkolomoperatie",
}
COMPARATORS_NL = {
    "usual_care": "gebruikelijke zorg",
    "no_treatment": "geen behandeling",
    "waiting_list": "wachtlijst",
    "placebo_sham": "placebo/schijnbehandeling",
    "minimal": "minimale interventie (advies, voorlichting, boekje)",
    "other_active": "andere actieve therapie",
}
MEASURE_NL = {
    "MD100": "gemiddeld verschil (MD) op een schaal 0-100",
    "SMD": "gestandaardiseerd gemiddeld verschil (SMD, Hedges' g)",
}


def _text(value: Any) -> str:
    """Cell text; a missing value is an empty cell, never 'nan'."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _ci(r: dict[str, Any]) -> str:
    return f"{nl(r['estimate'])} (95%-BI {nl(r['ci_low'])} tot {nl(r['ci_high'])})"


def _label(o: Outcome) -> str:
    cfg = load_config("analysis")
    return f"{cfg['outcomes'][o.spec.outcome]['label_nl']}, {cfg['windows'][o.spec.window]['label_nl']}"


def population_section(ev: EvidenceBase, pa: PopulationAssessment) -> list[b.Block]:
    population = pa.population
    robs = study_robs(ev, population)
    out: list[b.Block] = [b.heading(f"Resultaten: {POPULATION_LABELS[population].lower()}", 2, f"res-{population}")]
    out += _studies(ev, population, robs)
    for o, alt in zip(pa.outcomes, pa.alternative, strict=True):
        out += _outcome_blocks(o, alt, robs, population)
    rob_png = rob_summary(robs, sorted(robs))
    if rob_png:
        out.append(b.heading("Risico op bias per studie", 3))
        out.append(b.figure(rob_png, "Risico op bias per studie: domeinen van het gebruikte instrument en het totaaloordeel "
                            "(groen laag, geel enige zorgen/onduidelijk, rood hoog; PEDro-score in de cel).",
                            f"Risico-op-bias-overzicht {population}"))  # fmt: skip
    out += _review_crosscheck(ev, pa, population)
    out += _sof_blocks(pa, population)
    out += _conclusion_blocks(pa, population)
    return out


def _studies(ev: EvidenceBase, population: str, robs) -> list[b.Block]:
    st = ev.studies[ev.studies["_population"] == population].sort_values("study_id")
    res = ev.results[ev.results["_population"] == population]
    comparators = res.groupby("study_id")["comparator_type"].agg(
        lambda s: ", ".join(sorted({COMPARATORS_NL[c] for c in s}))
    )
    rows = []
    for _, s in st.iterrows():
        rob = robs.get(s["study_id"])
        rob_text = "niet beoordeeld" if rob is None else f"{rob.overall} ({rob.basis})"
        fit = {"include": "past binnen PICO", "indirect": "indirect", "exclude": "geëxcludeerd"}[s["eligibility"]]
        if pd.notna(s["eligibility_note"]):
            fit += f": {s['eligibility_note']}"
        rows.append([s["study_id"], _text(s["country"]), s["condition"], s["intervention"], comparators.get(s["study_id"], ""),
                     "" if pd.isna(s["n_randomised"]) else f"{s['n_randomised']:.0f}", fit, rob_text])  # fmt: skip
    return [
        b.heading("Geïncludeerde studies", 3),
        b.paragraph(f"{len(st)} studies in de evidence base voor deze populatie; per studie de interventie, "
                    "vergelijking(en), aantal gerandomiseerde deelnemers, passendheid binnen de PICO en risico op bias."),
        b.table(["Studie", "Land", "Aandoening", "Interventie", "Vergelijking", "N", "PICO", "Risico op bias"], rows,
                interactive=True, table_id=f"studies-{population}"),
    ]  # fmt: skip


def _outcome_blocks(o: Outcome, alt: Outcome, robs, population: str) -> list[b.Block]:
    out = [b.heading(_label(o), 3, f"{population}-{o.spec.outcome}-{o.spec.window}")]
    r = o.result
    if r is None:
        out.append(
            b.paragraph("Geen bruikbare resultaten voor deze uitkomst en termijn (zie bijlage B voor de redenen).")
        )
        return out
    a = o.analysis
    test = "Knapp-Hartung (t-verdeling)" if r.get("test_used") == "knha" else "z-toets"
    text = (
        f"Gepoold {MEASURE_NL['MD100']}: {_ci(r)}, {studies_nl(a.k)}, random-effects ({o.spec.method}, {test}). "
        f"Negatief = in het voordeel van fysio-/oefentherapie. Heterogeniteit: I² = {nl(r['i2'], 0)}%"
    )
    if r.get("i2_ci_low") is not None:
        text += f" (95%-BI {nl(r['i2_ci_low'], 0)} tot {nl(r['i2_ci_high'], 0)}%)"
    text += f", τ² = {nl(r['tau2'], 2)}, Q = {nl(r['q'], 2)} (p = {nl(r['q_pval'], 3)})."
    if a.k > 1 and r.get("pi_low") is not None:
        text += f" 95%-predictie-interval {nl(r['pi_low'])} tot {nl(r['pi_high'])}."
    out.append(b.paragraph(text))
    derived = a.rows[a.rows["derivation"].str.contains("SD from", na=False)]
    if len(derived):
        out.append(b.paragraph("Standaarddeviaties afgeleid (Cochrane Handbook 6.5.2.2) voor: "
                               + "; ".join(f"{x.result_id} ({x.derivation})" for x in derived.itertuples()) + "."))  # fmt: skip
    title = f"{_label(o)}: MD op 0-100"
    out.append(b.figure(forest_plot(r, o.mid, robs, title, "Gemiddeld verschil op 0-100 (negatief = voordeel therapie)"),
                        f"Forest plot, {_label(o).lower()}. Stippellijn: klinische relevantiegrens (−{g_nl(o.mid)}).",
                        f"Forest plot {title}"))  # fmt: skip
    out.append(_sensitivity_table(o, alt))
    if a.k >= 10:
        out.append(b.figure(funnel_plot(r, f"Funnel plot, {_label(o).lower()}"), "Funnel plot (alleen bij ten minste 10 studies).",
                            f"Funnel plot {_label(o)}"))  # fmt: skip
    return out


def _row(name: str, r: dict[str, Any] | None, k: int | None = None) -> list[str]:
    if r is None:
        return [name, "–", "–", "–"]
    return [name, _ci(r), str(r["k"] if k is None else k), f"{nl(r['i2'], 0)}%"]


def _sensitivity_table(o: Outcome, alt: Outcome) -> b.Block:
    s = o.analysis.sensitivity
    rows = [
        _row("Hoofdanalyse", o.result),
        _row("Fixed effect (inverse variantie)", s.get("fixed_effect")),
        _row("Random effects met z-toets", s.get("z_test")),
        _row("Alleen studies die direct binnen de PICO passen", s.get("direct_only")),
        _row("Alleen studies met laag risico op bias", s.get("low_rob_only")),
    ]
    loo = o.result["leave_one_out"] if o.result else []
    if loo:
        ests = [x["estimate"] for x in loo if x["estimate"] is not None]
        rows.append(
            [
                "Leave-one-out (bereik van de schattingen)",
                f"{nl(min(ests))} tot {nl(max(ests))}",
                str(len(loo) - 1),
                "–",
            ]
        )
    sub = s.get("comparator_subgroups")
    if sub:
        for g in sub["groups"]:
            rows.append(_row(f"Subgroep (z-toets): {COMPARATORS_NL[g['comparator_type']]}", g))
        rows.append(["Toets op subgroepverschillen", f"Q = {nl(sub['q_between'], 2)}, df = {sub['df_between']:.0f}, "
                     f"p = {nl(sub['p_between'], 3)}", "", ""])  # fmt: skip
    if alt.result is not None:
        rows.append([f"Alternatieve analyse: SMD (Hedges' g; {studies_nl(alt.analysis.k)} met SD's)", _ci(alt.result),
                     str(alt.analysis.k), f"{nl(alt.result['i2'], 0)}%"])  # fmt: skip
    return b.table(
        ["Analyse", "Effect (95%-BI)", "Studies", "I²"], rows, caption=f"Sensitiviteitsanalyses, {_label(o).lower()}"
    )


def _review_crosscheck(ev: EvidenceBase, pa: PopulationAssessment, population: str) -> list[b.Block]:
    rr = ev.review_results[ev.review_results["_population"] == population]
    if rr.empty:
        return []
    rows = []
    for _, r in rr.iterrows():
        ours = _comparable(pa, r)
        rows.append([r["review_id"], r["comparison"], r["outcome"], _text(r["timepoint_note"]), r["effect_measure"],
                     f"{r['effect']:g} ({r['ci_low']:g} tot {r['ci_high']:g})" if pd.notna(r["ci_low"]) else f"{r['effect']:g}",
                     _text(r["effect_definition"]), ours])  # fmt: skip
    return [
        b.heading("Vergelijking met gepoolde resultaten uit reviews", 3),
        b.paragraph("Review-resultaten zoals gepubliceerd (richting volgens de kolom 'definitie'), naast onze schatting voor "
                    "dezelfde uitkomst en termijn waar die te koppelen is. Verschillen komen door andere studiesets, "
                    "vergelijkingen en maten."),
        b.table(["Review", "Vergelijking", "Uitkomst", "Termijn", "Maat", "Review: effect (95%-BI)", "Definitie",
                 "Onze schatting (zelfde maat)"], rows, interactive=False),
    ]  # fmt: skip


def _comparable(pa: PopulationAssessment, review: pd.Series) -> str:
    text = str(review["outcome"]).lower()
    outcome = (
        "pain" if "pain" in text or "pijn" in text else "function" if ("function" in text or "disab" in text) else None
    )
    weeks = review["timepoint_weeks"]
    if outcome is None or pd.isna(weeks) or review["effect_measure"] not in ("SMD", "MD"):
        return "niet te koppelen"
    window = "short" if weeks <= 13 else "intermediate" if weeks < 52 else "long"
    pool = pa.alternative if review["effect_measure"] == "SMD" else pa.outcomes
    match = next((o for o in pool if o.spec.outcome == outcome and o.spec.window == window), None)
    if match is None or match.result is None:
        return "geen eigen schatting"
    return f"{'SMD' if review['effect_measure'] == 'SMD' else 'MD 0-100'} {_ci(match.result)} (negatief = voordeel)"


def _sof_blocks(pa: PopulationAssessment, population: str) -> list[b.Block]:
    table = sof_table(pa, "nl")
    j = pa.judgements
    thresholds = "; ".join(
        f"{o}: {g_nl(t['MD100'])} punten op 0-100, SMD {g_nl(t['SMD'])} ({t['source']})"
        for o, t in j.thresholds.items()
    )
    return [
        b.heading("Samenvatting van de bevindingen (GRADE)", 3, f"sof-{population}"),
        b.table(list(table.columns), table.values.tolist(), caption="Fysio-/oefentherapie versus gebruikelijke zorg, "
                "geen behandeling, minimale interventie of schijnbehandeling (gepoold)", footnotes=table.attrs["footnotes"]),
        b.paragraph(f"Klinische relevantiegrenzen: {thresholds}. Zekerheid: GRADE, start hoog voor gerandomiseerde studies; "
                    "afwaarderingen met reden in de voetnoten; oordelen van de beoordelaar uit "
                    f"{j.display_path} zijn als zodanig gemarkeerd."),
    ]  # fmt: skip


def _conclusion_blocks(pa: PopulationAssessment, population: str) -> list[b.Block]:
    c = pa.conclusion
    names = {
        "add_on": "add-on (meerwaarde gevraagd)",
        "replacement": "vervanging (gelijke waarde gevraagd)",
        "unclear": "onduidelijk",
    }
    designs = ", ".join(f"{names.get(k, k)}: {v}" for k, v in sorted(pa.design_counts.items()))
    return [
        b.heading("Beoordeling en conceptconclusie", 3, f"concl-{population}"),
        b.paragraph(f"Conceptconclusie: fysio- en oefentherapie {c.verdict_nl} voor deze populatie.", "banner"),
        b.bullets(c.steps_nl),
        b.paragraph(f"Opzet van de vergelijkingen (studies per type): {designs}. Bij add-on (therapie bovenop "
                    "gebruikelijke zorg) vraagt ZIN om meerwaarde; bij vervanging om gelijke waarde."),
    ]  # fmt: skip


def evidence_section(evidence_dir: str | Path) -> list[b.Block]:
    """Appendices: study characteristics, every result with its source, RoB, left-out results."""
    ev = load_evidence(evidence_dir)
    x = extract(ev.results, ev.instruments)
    src = ev.sources.set_index(["_population", "result_id"])
    study_rows = [[s["_population"], s["study_id"], s["citation"], f"{s['year']:.0f}", _text(s["country"]), s["condition"],
                   s["provider"], s["eligibility"], s["source_url"]] for _, s in ev.studies.iterrows()]  # fmt: skip
    result_rows = []
    for _, r in x.iterrows():
        s = src.loc[(r["_population"], r["result_id"])]
        numbers = _numbers(r)
        analysed = (
            "" if pd.isna(r["md100"]) else f"MD100 {nl(r['md100'])} (var {nl(r['vi_md100'], 2)}); {r['derivation']}"
        )
        result_rows.append([r["_population"], r["result_id"], r["study_id"], r["outcome"], _text(r["instrument"]),
                            "" if pd.isna(r["timepoint_weeks"]) else f"{r['timepoint_weeks']:g}", r["data_form"], numbers,
                            analysed or r["md_reason"], s["source_url"], _text(s["location"]), s["excerpt"]])  # fmt: skip
    rob_rows = [[r["_population"], r["study_id"], r["tool"], r["domain"], r["judgement"], r["source_url"], r["excerpt"]]
                for _, r in ev.risk_of_bias.iterrows()]  # fmt: skip
    return [
        b.heading("Bijlage A. Evidencetabellen", 2, "bijlage-a"),
        b.paragraph("Alle tabellen zijn te sorteren (klik op een kolomkop) en te filteren (zoekveld). Elk getal is terug te "
                    "vinden in het bronfragment in de laatste kolom."),
        b.heading("A1. Studiekenmerken", 3),
        b.table(["Populatie", "Studie", "Publicatie", "Jaar", "Land", "Aandoening", "Uitvoerder", "PICO", "Bron"], study_rows,
                interactive=True, table_id="a1-studies"),
        b.heading("A2. Resultaten met bronfragment", 3),
        b.table(["Populatie", "Resultaat", "Studie", "Uitkomst", "Instrument", "Weken", "Vorm", "Gegevens zoals gerapporteerd",
                 "Zoals geanalyseerd (of reden)", "Bron", "Vindplaats", "Bronfragment (letterlijk)"], result_rows,
                interactive=True, table_id="a2-results"),
        b.heading("A3. Risico op bias (zoals gerapporteerd door de bron)", 3),
        b.table(["Populatie", "Studie", "Instrument", "Domein", "Oordeel", "Bron", "Fragment"], rob_rows, interactive=True,
                table_id="a3-rob"),
        *_excluded_section(ev, x),
    ]  # fmt: skip


def _numbers(r: pd.Series) -> str:
    parts = []
    for arm, name in (("int", "I"), ("ctl", "C")):
        vals = [
            f"{f}={r[f'{f}_{arm}']:g}"
            for f in ("n", "mean", "sd", "se", "ci_low", "ci_high", "events")
            if pd.notna(r[f"{f}_{arm}"])
        ]
        if vals:
            parts.append(f"{name}: " + ", ".join(vals))
    if pd.notna(r["effect"]):
        ci = f" ({r['effect_ci_low']:g} to {r['effect_ci_high']:g})" if pd.notna(r["effect_ci_low"]) else ""
        parts.append(f"{r['effect_measure']} {r['effect']:g}{ci} [{r['effect_definition']}]")
    return "; ".join(parts)


def _excluded_section(ev: EvidenceBase, x: pd.DataFrame) -> list[b.Block]:
    cfg = load_config("analysis")
    used: set[str] = set()
    rows = []
    for p in sorted(set(ev.studies["_population"])):
        studies = ev.studies[ev.studies["_population"] == p]
        for spec in all_specs(p):
            chosen, left = select(x, studies, spec)
            used |= set(chosen["result_id"])
            for _, r in left.iterrows():
                rows.append([p, f"{spec.outcome}/{spec.window}", r["result_id"], r["reason"]])
    pooled_codes = {c for o in cfg["outcomes"].values() for codes in o["codes"].values() for c in codes}
    for _, r in x.iterrows():
        if r["result_id"] not in used and r["outcome"] not in pooled_codes:
            rows.append(
                [r["_population"], "–", r["result_id"], f"uitkomst '{r['outcome']}' wordt in dit rapport niet gepoold"]
            )
    seen: set[tuple[str, str]] = set()
    unique = []
    for row in rows:
        key = (row[2], row[3])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return [
        b.heading("Bijlage B. Niet gebruikte resultaten en redenen", 2, "bijlage-b"),
        b.table(["Populatie", "Analyse", "Resultaat", "Reden"], unique, interactive=True, table_id="b-excluded"),
    ]
