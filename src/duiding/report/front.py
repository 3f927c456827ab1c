"""The chapters around the population sections: Samenvatting, Inleiding, PICO, Methode and
the reproducibility appendix. Numbers and rules are read from the computed results, the
analysis plan and the GRADE rules, never typed into the prose."""

from __future__ import annotations

from typing import Any

from ..evidence import POPULATIONS, load_plan
from ..grade import Judgements, load_rules
from . import blocks as b
from .text import label, num, shortest

BANNER = (
    "CONCEPT — dit document is automatisch gegenereerd door software (duiding) en is geen vastgesteld "
    "standpunt van Zorginstituut Nederland."
)


def short_name(population: str) -> str:
    return label("populations", population).split(",")[0].split(" (")[0]


def summary_blocks(results: dict[str, Any]) -> list[b.Block]:
    """From the conclusions the population notebooks computed (manifest results)."""
    verdicts = {p: results[p]["conclusion"]["verdict_nl"] for p in POPULATIONS}
    items = [
        f"{label('populations', p)}: fysio- en oefentherapie {v} voor deze populatie." for p, v in verdicts.items()
    ]
    intro = (
        "Conceptconclusies per populatie, volgens de beslisregel van het Zorginstituut (zie 'Beoordeling en "
        "conceptconclusie' per populatie voor elke stap):"
    )
    return [b.Heading("Samenvatting", 2, "samenvatting"), b.Paragraph(intro), b.Bullets(items)]


def introduction_blocks(counts: dict[str, Any]) -> list[b.Block]:
    n = sum(c["studies"] for c in counts.values())
    reason = (
        "Het Zorginstituut beoordeelt of fysiotherapie en oefentherapie bij volwassenen met lage rugklachten en "
        "uitstralende pijn in het been voldoen aan de stand van de wetenschap en praktijk. In een eerdere ronde "
        "(gestart in 2017, WAR april 2019) kwam het Zorginstituut voorlopig tot de conclusie dat behandeling door "
        "een fysio- of oefentherapeut niet beter werkte dan gebruikelijke zorg voor de drie populaties; het "
        "standpunt werd uitgesteld (bron: werkagenda Zorginstituut Nederland)."
    )
    question = (
        "Is monodisciplinaire fysio- of oefentherapie effectiever dan gebruikelijke zorg, geen behandeling, een "
        "minimale interventie of een schijnbehandeling op pijn en functioneren, bij (1) aspecifieke lage "
        "rugklachten, (2) een lumbale hernia of stenose met uitstralende pijn in het been, en (3) na een lumbale "
        f"wervelkolomoperatie? De evidence base bevat {n} gerandomiseerde studies."
    )
    return [
        b.Heading("Inleiding", 2, "inleiding"),
        b.Heading("Aanleiding", 3),
        b.Paragraph(reason),
        b.Heading("Vraagstelling", 3),
        b.Paragraph(question),
    ]


def pico_blocks() -> list[b.Block]:
    plan = load_plan()
    comparators = ", ".join(label("comparators", c) for c in plan.comparators)
    windows = "; ".join(label("windows", w) for w in plan.windows)
    intervention = "Fysiotherapie of oefentherapie door een fysio- of oefentherapeut (monodisciplinair)"
    rows = [
        [label("populations", p), intervention, comparators, "Cruciaal: pijn, functioneren (0-100)", windows]
        for p in POPULATIONS
    ]
    columns = ["Populatie (P)", "Interventie (I)", "Vergelijking (C)", "Uitkomstmaten (O)", "Termijnen (T)"]
    return [b.Heading("PICO per populatie", 2, "pico"), b.Table(columns, rows)]


def method_blocks(counts: dict[str, Any], judgements: dict[str, Judgements], method: str, test: str) -> list[b.Block]:
    plan = load_plan()
    rules = load_rules()
    per_pop = "; ".join(
        f"{short_name(p).lower()}: {c['studies']} studies, "
        f"{c['studies_with_poolable_pain_or_function']} met poolbare gegevens over pijn of functioneren"
        for p, c in counts.items()
    )
    test_nl = "Knapp-Hartung (t-verdeling met k−1 vrijheidsgraden)" if test == "knha" else label("tests", test)
    windows = "; ".join(
        f"{label('windows', k)}: doelmoment {shortest(w.target)} weken" for k, w in plan.windows.items()
    )
    thresholds = [
        [short_name(p), label("outcomes", o), shortest(t["MD100"]), shortest(t["SMD"]), t["source"]]
        for p, j in judgements.items()
        for o, t in j.thresholds.items()
    ]
    ri = rules.risk_of_bias
    search = (
        "De evidence base (map evidence/) bevat gerandomiseerde studies die zijn overgenomen uit openbaar "
        "beschikbare bronnen (Cochrane-reviews, publicaties en samenvattingen), elk getal met adres en letterlijk "
        f"bronfragment. Per populatie: {per_pop}. Er is geen nieuwe systematische zoekactie gedaan; de selectie "
        "volgt uit de bronnen die in de evidence base zijn vastgelegd."
    )
    measures = (
        "Continue uitkomsten worden gepoold als gemiddeld verschil op een schaal 0-100 (NRS 0-10 ×10, RMDQ ×100/24, "
        "ODI zoals gerapporteerd; per instrument vastgelegd in evidence/instruments.csv); alternatief als SMD "
        "(Hedges' g met exacte correctie) wanneer standaarddeviaties per arm beschikbaar zijn. Alle effecten zijn "
        "zo gericht dat een negatieve waarde in het voordeel van de therapie is. Ontbrekende SD's zijn afgeleid uit "
        "SE of 95%-BI (Cochrane Handbook 6.5.2.2); waar dat gebeurde staat het bij de analyse."
    )
    model = (
        f"Random-effects meta-analyse met τ²-schatter {method} en {test_nl}; bij één studie de z-toets. "
        "Heterogeniteit: Q, I² met Q-profile-BI, 95%-predictie-interval. Gevoeligheidsanalyses: fixed effect, "
        "z-toets, alleen directe studies, alleen laag risico op bias, leave-one-out en subgroepen per type "
        "vergelijking. De rekenkern is gecontroleerd tegen R-metafor (afwijking < 10⁻⁶)."
    )
    windows_text = (
        f"Termijnen: {windows}; per studie telt het meetmoment dat het dichtst bij het doelmoment ligt. Per studie "
        "en analyse één resultaat (voorkeur: uitkomstcode, type vergelijking, meetmoment, gegevensvorm)."
    )
    grade = (
        "Zekerheid per uitkomst volgens GRADE, start hoog. Risico op bias: afwaarderen met 1 niveau als meer dan "
        f"{num(100 * ri.down_one_if_high_or_some_share_above, 0)}% van het gewicht komt uit studies met hoog risico "
        f"of enige zorgen, met 2 als meer dan {num(100 * ri.down_two_if_high_share_above, 0)}% uit hoog risico "
        f"(PEDro ≥ {ri.pedro_low_from} = laag). Inconsistentie: vanaf I² {shortest(rules.down_one_if_i2_at_least)}% "
        "als de schattingen of het predictie-interval aan beide kanten van de relevantiegrens liggen. "
        "Onnauwkeurigheid: het 95%-BI tegen de relevantiegrens en nul, en de optimale informatiegrootte "
        f"({rules.optimal_information_size} deelnemers). Publicatiebias: alleen vanaf "
        f"{rules.publication_min_studies} studies (Egger-toets). Indirectheid: oordeel van de beoordelaar."
    )
    return [
        b.Heading("Methode", 2, "methode"),
        b.Heading("Zoeken en selectie", 3),
        b.Paragraph(search),
        b.Heading("Effectmaten", 3),
        b.Paragraph(measures),
        b.Heading("Model", 3),
        b.Paragraph(model),
        b.Paragraph(windows_text),
        b.Heading("GRADE", 3),
        b.Paragraph(grade),
        b.Heading("Klinische relevantiegrenzen", 3),
        b.Table(["Populatie", "Uitkomst", "MD 0-100", "SMD", "Bron"], thresholds),
    ]


def reproducibility_blocks(man: dict[str, Any]) -> list[b.Block]:
    inputs = [[path, digest] for path, digest in sorted(man["inputs"].items())]
    versions = [[k, v or "niet geïnstalleerd"] for k, v in man["versions"].items()]
    params = [[k, str(v)] for k, v in man["parameters"].items()]
    text = (
        f"Git-commit: {man['git_commit'] or 'onbekend'}. Het tijdstip van genereren staat in reports/manifest.json "
        "en bovenaan de HTML-versie; zelfde invoer en versies geven een byte-identiek DOCX-bestand en dezelfde "
        "tabellen, getallen en figuren."
    )
    return [
        b.Heading("Bijlage C. Reproduceerbaarheid", 2, "bijlage-c"),
        b.Paragraph(text),
        b.Table(["Parameter", "Waarde"], params, caption="Parameters"),
        b.Table(["Pakket", "Versie"], versions, caption="Pakketversies"),
        b.Table(["Invoerbestand", "SHA-256"], inputs, caption="Invoerbestanden", interactive=True, table_id="c-inputs"),
    ]
