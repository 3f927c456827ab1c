"""The chapters around the population sections: Samenvatting, Inleiding, PICO, Methode and
the reproducibility appendix. Numbers and rules are read from the computed results, the
analysis plan and the GRADE rules, never typed into the prose."""

from __future__ import annotations

from typing import Any

from ..evidence import POPULATIONS
from . import blocks as b
from .text import label

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
