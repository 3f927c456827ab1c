"""The chapters of a ZIN standpunt around the population sections: Samenvatting,
Inleiding (aanleiding, vraagstelling, procedure), Achtergrond, Discussie, Conclusie /
conceptstandpunt, Literatuur, Colofon and Afkortingen.

The structure follows ZIN's "Beoordeling stand van de wetenschap en praktijk" (2015) and
its earlier standpunten. Facts about the procedure and the care come from the public
documents this project started from (``../shared/seeds/``), cited by title; every number
about the evidence comes from the evidence base or the computed results.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..evidence import POPULATIONS, EvidenceBase
from . import blocks as b
from .text import count, label

SEEDS = {
    "zin_standpunt": (
        "Zorginstituut Nederland. Standpunt - Wel of niet vergoeden fysio- of oefentherapie bij patiënten met lage "
        "rugklachten en pijn in het been (webpagina van het lopende standpunt: vraag, populaties, procedure, "
        "planning, betrokken partijen)."
    ),
    "zin_systeemadvies": (
        "Zorginstituut Nederland. Dossier systeemadvies fysiotherapie en oefentherapie (afgesloten): systeemadvies "
        "2016, plan van aanpak 2017, stopgezet in juni 2021."
    ),
    "kngf_2003": "KNGF-richtlijn Lage-rugpijn. Koninklijk Nederlands Genootschap voor Fysiotherapie, 2003.",
    "zin_verbetersignalement": (
        "Zorginstituut Nederland. Zinnige Zorg Verbetersignalement Klachten vanuit de lage rug. Diemen, 29 april 2021."
    ),
    "vws_projectplan": (
        "Ministerie van VWS. Projectplan 'Naar een passende aanspraak voor eerstelijns fysio- en oefentherapie'. "
        "Den Haag, 15 november 2021."
    ),
}

METHODS = [
    "Zorginstituut Nederland. Beoordeling stand van de wetenschap en praktijk. Diemen, 2015.",
    "Higgins JPT, Thomas J, Chandler J, et al. (red.). Cochrane Handbook for Systematic Reviews of Interventions, "
    "versie 6.4. Cochrane, 2023.",
    "Guyatt GH, Oxman AD, Vist G, et al. GRADE guidelines: 4. Rating the quality of evidence - study limitations "
    "(risk of bias). J Clin Epidemiol 2011;64:407-15.",
    "Guyatt GH, Oxman AD, Montori V, et al. GRADE guidelines: 5. Rating the quality of evidence - publication "
    "bias. J Clin Epidemiol 2011;64:1277-82.",
    "Guyatt GH, Oxman AD, Kunz R, et al. GRADE guidelines 6. Rating the quality of evidence - imprecision. "
    "J Clin Epidemiol 2011;64:1283-93.",
    "Guyatt GH, Oxman AD, Kunz R, et al. GRADE guidelines: 7. Rating the quality of evidence - inconsistency. "
    "J Clin Epidemiol 2011;64:1294-302.",
    "Guyatt GH, Oxman AD, Kunz R, et al. GRADE guidelines: 8. Rating the quality of evidence - indirectness. "
    "J Clin Epidemiol 2011;64:1303-10.",
    "Santesso N, Glenton C, Dahm P, et al. GRADE guidelines 26: informative statements to communicate the "
    "findings of systematic reviews of interventions. J Clin Epidemiol 2020;119:126-35.",
    "Campbell M, McKenzie JE, Sowden A, et al. Synthesis without meta-analysis (SWiM) in systematic reviews: "
    "reporting guideline. BMJ 2020;368:l6890.",
    "Bender R, Friede T, Koch A, et al. Methods for evidence synthesis in the case of very few studies. "
    "Res Synth Methods 2018;9:382-92.",
    "Röver C, Knapp G, Friede T. Hartung-Knapp-Sidik-Jonkman approach and its modification for random-effects "
    "meta-analysis with few studies. BMC Med Res Methodol 2015;15:99.",
    "Knapp G, Hartung J. Improved tests for a random effects meta-regression with a single covariate. "
    "Stat Med 2003;22:2693-710.",
    "Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw 2010;36(3):1-48.",
    "Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an updated guideline for reporting "
    "systematic reviews. BMJ 2021;372:n71.",
    "Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for assessing risk of bias in randomised "
    "trials. BMJ 2019;366:l4898.",
    "Egger M, Davey Smith G, Schneider M, Minder C. Bias in meta-analysis detected by a simple, graphical test. "
    "BMJ 1997;315:629-34.",
    "Norman GR, Sloan JA, Wyrwich KW. Interpretation of changes in health-related quality of life: the "
    "remarkable universality of half a standard deviation. Med Care 2003;41:582-92.",
]

ABBREVIATIONS = [
    ("BI", "betrouwbaarheidsinterval (95%)"),
    ("GRADE", "Grading of Recommendations Assessment, Development and Evaluation"),
    ("I²", "aandeel van de variatie tussen studies dat niet op toeval berust"),
    ("KNGF", "Koninklijk Nederlands Genootschap voor Fysiotherapie"),
    ("LRS", "lumbosacraal radiculair syndroom"),
    ("MD", "gemiddeld verschil (mean difference)"),
    ("NHG", "Nederlands Huisartsen Genootschap"),
    ("NRS", "numerieke beoordelingsschaal (numeric rating scale)"),
    ("ODI", "Oswestry Disability Index"),
    ("OIS", "optimale informatiegrootte (optimal information size)"),
    ("PICO", "patiënten, interventie, vergelijking (comparison), uitkomstmaten (outcomes)"),
    ("PRISMA", "Preferred Reporting Items for Systematic reviews and Meta-Analyses"),
    ("RCT", "gerandomiseerde gecontroleerde studie"),
    ("REML", "restricted maximum likelihood (schatter van τ²)"),
    ("RMDQ", "Roland-Morris Disability Questionnaire"),
    ("RoB", "risico op bias (risk of bias)"),
    ("SD / SE", "standaarddeviatie / standaardfout"),
    ("SMD", "gestandaardiseerd gemiddeld verschil (Hedges' g)"),
    ("VAS", "visueel analoge schaal"),
    ("VWS", "ministerie van Volksgezondheid, Welzijn en Sport"),
    ("WAR", "Wetenschappelijke Adviesraad van het Zorginstituut"),
    ("τ²", "variantie van de werkelijke effecten tussen studies"),
]


def summary_blocks(results: dict[str, Any]) -> list[b.Block]:
    """Per population the draft conclusion and the GRADE conclusions on its crucial outcomes."""
    out: list[b.Block] = [b.Heading("Samenvatting", 2, "samenvatting")]
    out.append(
        b.Paragraph(
            "Het Zorginstituut beoordeelt of fysio- en oefentherapie bij volwassenen met lage rugklachten en pijn in "
            "het been voldoen aan de stand van de wetenschap en praktijk. Dit concept vat per populatie de "
            "gepoolde resultaten, de zekerheid van het bewijs (GRADE) en de toepassing van de beslisregel samen."
        )
    )
    for p in POPULATIONS:
        out += verdict_blocks(p, results[p], "Conceptconclusie: fysio")
        statements = results[p].get("statements", [])
        if statements:
            out.append(b.Bullets(statements))
    return out


def verdict_blocks(population: str, result: dict[str, Any], lead: str) -> list[b.Block]:
    """A population's heading and its verdict line ('… fysio- en oefentherapie voldoen …')."""
    verdict = f"{lead}- en oefentherapie {result['conclusion']['verdict_nl']}."
    return [b.Heading(label("populations", population), 3), b.Paragraph(verdict, "banner")]


def introduction_blocks(counts: dict[str, Any]) -> list[b.Block]:
    n = sum(c["studies"] for c in counts.values())
    reason = (
        "Alleen zorg die voldoet aan de stand van de wetenschap en praktijk hoort in het basispakket van de "
        "zorgverzekering. Is dat niet duidelijk, dan beoordeelt het Zorginstituut het zelf in een duiding; de "
        "uitkomst heet een standpunt. Het Zorginstituut onderzoekt of fysio- of oefentherapie effectieve zorg is "
        "voor patiënten met lage rugklachten en pijn in het been [1]. De aanleiding ligt in eerder werk over de "
        "aanspraak op fysio- en oefentherapie: het systeemadvies van 2016 en het daarop volgende plan van aanpak, "
        "dat in 2021 werd stopgezet [2], en het projectplan van VWS voor een passende aanspraak op eerstelijns "
        "fysio- en oefentherapie [5]."
    )
    question = (
        "Is monodisciplinaire fysio- of oefentherapie effectiever dan gebruikelijke zorg, geen behandeling, een "
        "wachtlijst, een minimale interventie of een schijnbehandeling op pijn en functioneren bij volwassenen met "
        "(1) lage rugklachten die niet door een ernstige ziekte komen, eventueel met pijn in het been; (2) een "
        "lumbale hernia of wervelkanaalstenose met uitstralende pijn in het been; en (3) na een operatie aan de "
        f"lage rug [1]? Dit concept beantwoordt die vraag met een evidence base van {n} gerandomiseerde studies."
    )
    procedure = (
        "Patiënten, zorgverleners en zorgverzekeraars hebben inspraak bij het opstellen van een standpunt, en de "
        "Wetenschappelijke Adviesraad (WAR) adviseert het Zorginstituut; het Zorginstituut weegt de reacties en "
        "stelt het standpunt vast [1]. De procedure kent twee besprekingen in de WAR met daartussen een externe "
        "consultatie van het conceptstandpunt, en een besluit van de Raad van Bestuur [1]. Betrokken partijen zijn "
        "onder meer het KNGF, het NHG, de NVMT, de wetenschappelijke verenigingen voor neurochirurgie, neurologie, "
        "orthopedie en revalidatiegeneeskunde, de Vereniging van Oefentherapeuten Cesar en Mensendieck, de "
        "patiëntenvereniging 'de Wervelkolom' en Zorgverzekeraars Nederland [1]. Dit document is een concept voor "
        "die procedure en is geen vastgesteld standpunt."
    )
    sections = [("Aanleiding", reason), ("Vraagstelling", question), ("Procedure", procedure)]
    return chapter("Inleiding", "inleiding", sections)


def background_blocks() -> list[b.Block]:
    condition = (
        "Aspecifieke lage-rugpijn is lage-rugpijn zonder aanwijsbare specifieke lichamelijke oorzaak, zoals "
        "compressie van een zenuwwortel, een trauma, een ontsteking of een tumor; dat is zo bij circa 90% van de "
        "patiënten met lage-rugpijn. Naar duur onderscheidt de KNGF-richtlijn acuut (0-6 weken), subacuut (7-12 "
        "weken) en chronisch (langer dan 12 weken). Ongeveer 60-90% van de bevolking krijgt ooit last van "
        "lage-rugpijn; voor fysiotherapeuten is het de meest voorkomende verwijsdiagnose [3]. Het Zinnige "
        "Zorg-verbetersignalement noemt een incidentie van 1.439.200 nieuwe patiënten in 2019 en plaatst klachten "
        "vanuit de lage rug bovenaan de aandoeningen met een hoge ziektelast [4]."
    )
    populations = (
        "De rugklachten kunnen uitstralen naar het been of de voet (sciatica); bij een hernia of een vernauwing van "
        "het wervelkanaal spreekt men van lumbosacraal radiculair syndroom [1, 4]. Dit standpunt onderscheidt drie "
        "populaties: aspecifieke lage rugklachten met of zonder uitstralende pijn; een door een arts vastgestelde "
        "lumbale hernia of wervelkanaalstenose; en volwassenen na een operatie aan de lage rug [1]."
    )
    care = (
        "Patiënten kunnen zonder verwijzing naar de fysio- of oefentherapeut. De behandeling is monodisciplinair: "
        "alleen de fysio- of oefentherapeut is betrokken, en bestaat uit het stimuleren van en oefenen met gezond "
        "bewegen; de fysiotherapeut kan daarnaast gewrichten mobiliseren [1]. De NHG-Standaarden bevelen "
        "stapsgewijze zorg aan, van voorlichting en uitbreiding van activiteiten via oefentherapie en gedragsmatige "
        "behandeling tot multidisciplinaire revalidatie; beeldvormend onderzoek wordt in de eerste lijn bij "
        "aspecifieke klachten niet aangeraden [4]. Eerstelijns fysio- en oefentherapie wordt beperkt vergoed uit "
        "het basispakket: alleen bij aandoeningen op een limitatieve lijst, en vaak betaalt de patiënt de eerste "
        "20 behandelingen zelf [5]."
    )
    guidelines = (
        "Volgens het verbetersignalement komen de aanbevelingen in de acht monodisciplinaire en vier "
        "multidisciplinaire Nederlandse richtlijnen in grote lijnen overeen, maar is de ketenzorgrichtlijn "
        "'Aspecifieke lage rugklachten' (2010) nooit geïmplementeerd; partijen spraken af die te actualiseren [4]. "
        "De KNGF-richtlijn beschrijft het fysiotherapeutisch proces bij lage-rugpijn [3]."
    )
    sections = [
        ("De aandoening", condition),
        ("De drie populaties", populations),
        ("Huidige zorg en vergoeding", care),
        ("Richtlijnen", guidelines),
    ]
    return chapter("Achtergrond", "achtergrond", sections)


def chapter(title: str, anchor: str, sections: list[tuple[str, str]]) -> list[b.Block]:
    """A chapter of prose: its heading, then per section a heading and one paragraph."""
    blocks: list[b.Block] = [b.Heading(title, 2, anchor)]
    for heading, text in sections:
        blocks += [b.Heading(heading, 3), b.Paragraph(text)]
    return blocks


def discussion_blocks(ev: EvidenceBase, counts: dict[str, Any], results: dict[str, Any]) -> list[b.Block]:
    """The limits of this evidence base, each with its count."""
    indirect = sum(c["studies_indirect"] for c in counts.values())
    total = sum(c["studies"] for c in counts.values())
    not_entered = sum(c["reported_not_entered"] for c in counts.values())
    drafted = int(ev.risk_of_bias["study_id"].nunique())
    without_ids = sum(len(c["studies_without_doi_or_pmid"]) for c in counts.values())
    results_n = len(ev.results)
    unknown_n = int((ev.results["n_int"].isna() | ev.results["n_ctl"].isna()).sum())
    items = [
        "Geen nieuwe systematische zoekactie: de evidence base is opgebouwd uit openbare bronnen (Cochrane-reviews, "
        "publicaties en samenvattingen) en de screeningslogboeken leggen vast wat is bekeken. Studies die in geen "
        "van die bronnen voorkomen, ontbreken.",
        f"Ontbrekende gegevens: {count(not_entered)} combinaties van uitkomstmaat en meetmoment die de studies volgens "
        f"hun bronnen rapporteren, zijn niet ingevoerd omdat de getallen in de geraadpleegde tekst niet stonden; "
        f"bij {count(unknown_n)} van de {count(results_n)} resultaten ontbreken groepsgroottes. Ontbrekende waarden "
        "zijn als ontbrekend vastgelegd, nooit geschat.",
        f"Indirectheid: {indirect} van de {total} studies passen niet direct binnen de PICO (populatie, behandelaar "
        "of vergelijking) en staan alleen in de sensitiviteitsanalyses.",
        f"Risico op bias: voor {drafted} studies zijn risico-op-bias-oordelen vastgelegd, deels als concept van het "
        "team (grade/risk_of_bias/); die oordelen moeten door een beoordelaar worden bevestigd.",
        "Weinig studies per analyse: veel analyses hebben 1 tot 4 studies. Het beleid van Bender et al. (2018) "
        "voorkomt nietszeggende intervallen, maar een fixed-effect-resultaat geldt voor de gepoolde studies en "
        "is niet zonder meer te veralgemenen.",
        "Gelijke waarde bij vervanging is afgelezen aan de bovengrens van het 95%-BI; de onnauwkeurigheid is "
        "beoordeeld ten opzichte van de relevantiegrens voor voordeel. Voor een strikte non-inferioriteitsvraag "
        "zou de onnauwkeurigheid ten opzichte van de grens voor nadeel worden beoordeeld.",
    ]
    if without_ids:
        items.append(f"Van {without_ids} studies is geen DOI of PMID vastgelegd (zie Literatuur).")
    return [
        b.Heading("Discussie", 2, "discussie"),
        b.Paragraph("De beperkingen van dit concept, elk met de omvang waarin ze spelen:"),
        b.Bullets(items),
    ]


def conclusion_chapter(results: dict[str, Any]) -> list[b.Block]:
    """Conclusie / conceptstandpunt: per population the verdict and what would change it."""
    out: list[b.Block] = [b.Heading("Conclusie en conceptstandpunt", 2, "conclusie")]
    for p in POPULATIONS:
        out += verdict_blocks(p, results[p], "Fysio")
        tipping = results[p].get("tipping", [])
        if tipping:
            out.append(b.Paragraph("Wat de conclusie zou omdraaien (kantelpunten):"))
            out.append(b.Bullets(tipping))
    out.append(
        b.Paragraph(
            "Dit is een conceptstandpunt voor bespreking in de Wetenschappelijke Adviesraad en voor de consultatie; "
            "het Zorginstituut stelt het standpunt vast."
        )
    )
    return out


def literature_blocks(ev: EvidenceBase) -> list[b.Block]:
    """Seeds, methods and every study with DOI or PMID and the address it was read at."""
    seeds = [f"[{i}] {text}" for i, text in enumerate(SEEDS.values(), 1)]
    studies = ev.studies.drop_duplicates("study_id").sort_values("study_id")
    items = []
    for _, s in studies.iterrows():
        ids = []
        if pd.notna(s["doi"]):
            ids.append(f"doi:{s['doi']}")
        if pd.notna(s["pmid"]):
            ids.append(f"PMID {s['pmid']:.0f}" if isinstance(s["pmid"], float) else f"PMID {s['pmid']}")
        where = f" Gelezen via {s['source_url']}." if pd.notna(s["source_url"]) else ""
        citation = str(s["citation"]).strip().rstrip(".")  # citations often end in a full stop already
        items.append(f"{s['study_id']}: {citation}. {'; '.join(ids) or 'geen DOI of PMID vastgelegd'}.{where}")
    return [
        b.Heading("Literatuur", 2, "literatuur"),
        b.Heading("Documenten van Zorginstituut, KNGF en VWS", 3),
        b.Bullets(seeds),
        b.Heading("Methoden", 3),
        b.Bullets(METHODS),
        b.Heading("Studies in de evidence base", 3),
        b.Bullets(items),
    ]


def colofon_blocks(man: dict[str, Any], version: str) -> list[b.Block]:
    rows = [
        [
            "Titel",
            "Conceptstandpunt fysiotherapie en oefentherapie bij lage rugklachten en uitstralende pijn in het been",
        ],
        ["Status", "CONCEPT — automatisch gegenereerd, niet vastgesteld, niet voor verspreiding"],
        ["Opgesteld met", f"duiding {version} (open source)"],
        ["Git-commit van de invoer", man.get("git_commit") or "onbekend"],
        ["Datum van de invoer", man.get("commit_date") or "onbekend"],
        ["Reproduceerbaarheid", "zie bijlage C: parameters, pakketversies en SHA-256 van elk invoerbestand"],
    ]
    abbreviations = [[a, meaning] for a, meaning in ABBREVIATIONS]
    return [
        b.Heading("Colofon", 2, "colofon"),
        b.Table(["", ""], rows),
        b.Heading("Afkortingen", 2, "afkortingen"),
        b.Table(["Afkorting", "Betekenis"], abbreviations, caption="Afkortingen"),
    ]
