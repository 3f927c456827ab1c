"""The evidence appendices: study characteristics, every result with its verbatim source,
risk-of-bias ratings, and every result left out of the analyses with its reason."""

from __future__ import annotations

import pandas as pd

from ..evidence import EvidenceBase, all_specs, load_plan, select
from . import blocks as b
from .text import country, label, num, outcome_window, phrase, shortest


def evidence_section(ev: EvidenceBase) -> list[b.Block]:
    """Appendices A (evidence tables) and B (results not used, with reasons)."""
    x = ev.extracted
    src = ev.sources.set_index(["_population", "result_id"])
    study_rows = [
        [
            label("populations_tag", s["_population"]),
            s["study_id"],
            s["citation"],
            f"{s['year']:.0f}",
            country(s["country"]),
            label("conditions", s["condition"]),
            label("providers", s["provider"]),
            label("eligibility", s["eligibility"]),
            s["source_url"],
        ]
        for _, s in ev.studies.iterrows()
    ]
    result_rows = []
    for _, r in x.iterrows():
        s = src.loc[(r["_population"], r["result_id"])]
        weeks = "" if pd.isna(r["timepoint_weeks"]) else shortest(r["timepoint_weeks"])
        result_rows.append(
            [
                label("populations_tag", r["_population"]),
                r["result_id"],
                r["study_id"],
                label("outcomes", r["outcome"]),
                r["instrument"],
                weeks,
                label("data_forms", r["data_form"]),
                reported_numbers(r),
                analysed(r),
                s["source_url"],
                s["location"],
                s["excerpt"],
            ]
        )
    rob_rows = [
        [
            label("populations_tag", r["_population"]),
            r["study_id"],
            label("rob_tools", r["tool"]),
            label("rob_domains", r["domain"]),
            rob_judgement(r["tool"], r["judgement"]),
            r["source_url"],
            r["excerpt"],
        ]
        for _, r in ev.risk_of_bias.iterrows()
    ]
    result_columns = [
        "Populatie",
        "Resultaat",
        "Studie",
        "Uitkomst",
        "Instrument",
        "Weken",
        "Vorm",
        "Gegevens zoals gerapporteerd",
        "Zoals geanalyseerd (of reden)",
        "Bron",
        "Vindplaats",
        "Bronfragment (letterlijk)",
    ]
    intro = (
        "Elk getal is terug te vinden in het letterlijke bronfragment bij het resultaat. In de HTML-versie zijn alle "
        "tabellen te sorteren (klik op een kolomkop) en te filteren (zoekveld)."
    )
    study_columns = ["Populatie", "Studie", "Publicatie", "Jaar", "Land", "Aandoening", "Uitvoerder", "PICO", "Bron"]
    rob_columns = ["Populatie", "Studie", "Instrument", "Domein", "Oordeel", "Bron", "Fragment"]
    return [
        b.Heading("Bijlage A. Evidencetabellen", 2, "bijlage-a"),
        b.Paragraph(intro),
        b.Heading("A1. Studiekenmerken", 3),
        evidence_table(study_columns, study_rows, "a1-studies"),
        b.Heading("A2. Resultaten met bronfragment", 3),
        evidence_table(result_columns, result_rows, "a2-results", english_last=True),
        b.Heading("A3. Risico op bias (zoals gerapporteerd door de bron)", 3),
        evidence_table(rob_columns, rob_rows, "a3-rob", english_last=True),
        *excluded_section(ev, x),
    ]


def evidence_table(columns: list[str], rows: list[list[str]], table_id: str, english_last: bool = False) -> b.Table:
    """An appendix table: sortable and filterable in HTML, one block per row in the DOCX;
    ``english_last``: the last column is verbatim (English) source text."""
    langs = [None] * (len(columns) - 1) + ["en"] if english_last else []
    return b.Table(columns, rows, interactive=True, table_id=table_id, langs=langs, layout="records")


def rob_judgement(tool: str, judgement: str) -> str:
    """A judgement in words; a PEDro total as a score out of 10."""
    if tool == "PEDro" and str(judgement).isdigit():
        return f"{judgement}/10"
    return label("rob_judgements", judgement)


def analysed(r: pd.Series) -> str:
    """The MD on 0-100 as analysed and how it was obtained, or why it could not be."""
    if pd.isna(r["md100"]):
        return label("exclusion_reasons", r["md_reason"])
    how = [label("effect_basis", r["effect_basis"])]
    if r["effect_basis"] == "arms":
        how += sorted({label("sd_how", h) for h in (r["sd_int_how"], r["sd_ctl_how"]) if h})
    elif r["se_how"]:
        how.append(label("se_how", r["se_how"]))
    return f"MD op 0-100 {num(r['md100'])} (variantie {num(r['vi_md100'], 2)}); {'; '.join(how)}"


def reported_numbers(r: pd.Series) -> str:
    parts = []
    for arm, name in (("int", "I"), ("ctl", "C")):
        fields = ("n", "mean", "sd", "se", "ci_low", "ci_high", "events")
        values = [f"{f}={shortest(r[f'{f}_{arm}'])}" for f in fields if pd.notna(r[f"{f}_{arm}"])]
        if values:
            parts.append(f"{name}: " + ", ".join(values))
    if pd.notna(r["effect"]):
        low, high = r["effect_ci_low"], r["effect_ci_high"]
        interval = f" (95%-BI {shortest(low)} tot {shortest(high)})" if pd.notna(low) else ""
        definition = label("effect_definitions", r["effect_definition"])
        parts.append(f"{r['effect_measure']} {shortest(r['effect'])}{interval} [{definition}]")
    return "; ".join(parts)


def excluded_section(ev: EvidenceBase, x: pd.DataFrame) -> list[b.Block]:
    plan = load_plan()
    used: set[str] = set()
    rows = []
    for p in sorted(set(ev.studies["_population"])):
        studies = ev.of("studies", p)
        for spec in all_specs(p):
            sel = select(x, studies, spec, plan)
            used |= set(sel.rows["result_id"])
            for _, r in sel.excluded.iterrows():
                reason = phrase(label("exclusion_reasons", r["reason"]), {"other": r["other_result"]})
                analysis = outcome_window(spec.outcome, spec.window, p)
                rows.append([label("populations_tag", p), analysis, r["result_id"], reason])
    pooled_codes = {c for o in plan.outcomes.values() for codes in o.codes.values() for c in codes}
    for _, r in x.iterrows():
        if r["result_id"] not in used and r["outcome"] not in pooled_codes:
            reason = phrase(label("exclusion_reasons", "not_pooled"), {"outcome": label("outcomes", r["outcome"])})
            rows.append([label("populations_tag", r["_population"]), "–", r["result_id"], reason])
    # each result once per reason, then grouped: one row per population, analysis and reason
    seen: set[tuple[str, str]] = set()
    groups: dict[tuple[str, str, str], list[str]] = {}
    for population, analysis, result, reason in rows:
        if (result, reason) not in seen:
            seen.add((result, reason))
            groups.setdefault((population, analysis, reason), []).append(result)
    grouped = [[p, a, r, str(len(ids)), ", ".join(ids)] for (p, a, r), ids in groups.items()]
    results = len({result for result, _ in seen})
    intro = (
        f"{results} resultaten zijn niet gebruikt in een analyse waarvoor ze in aanmerking kwamen, of in geen enkele "
        "analyse; gegroepeerd per populatie, analyse en reden (de kenmerken van elk resultaat staan in bijlage A2)."
    )
    return [
        b.Heading("Bijlage B. Niet gebruikte resultaten en redenen", 2, "bijlage-b"),
        b.Paragraph(intro),
        b.Table(
            ["Populatie", "Analyse", "Reden", "Aantal", "Resultaten"],
            grouped,
            interactive=True,
            table_id="b-excluded",
        ),
    ]
