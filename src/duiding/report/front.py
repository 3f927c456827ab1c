"""The concept banner and the reproducibility appendix (Bijlage C): parameters, package
versions and the SHA-256 of every input file, from the manifest."""

from __future__ import annotations

from typing import Any

from . import blocks as b

BANNER = (
    "CONCEPT — dit document is automatisch gegenereerd door software (duiding) en is geen vastgesteld "
    "standpunt van Zorginstituut Nederland."
)


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
