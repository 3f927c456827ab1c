"""The Methode chapter: PICO, selection, effect measures and model (with the policy for
very few studies), GRADE and the thresholds, ZIN's decision rule and the tipping points.

Every rule is printed from the analysis plan (``config/analysis.yaml``), the GRADE rules
(``config/grade_rules.yaml``) and the assessor's files, never typed into the prose; the
sources of the methods are cited where they are applied.
"""

from __future__ import annotations

from typing import Any

from ..evidence import POPULATIONS, AnalysisPlan, load_plan
from ..grade import Judgements, load_rules
from . import blocks as b
from .figures import prisma_flow
from .text import label, labels, num, outcome_name, percent, rule_by_design, shortest


def short_name(population: str) -> str:
    return label("populations", population).split(",")[0].split(" (")[0]


def pico_blocks(judgements: dict[str, Judgements] | None = None, level: int = 3) -> list[b.Block]:
    """The PICO per population, with the crucial and important outcomes of the plan."""
    plan = load_plan()
    comparators = ", ".join(label("comparators", c) for c in plan.comparators)
    windows = "; ".join(label("windows", w) for w in plan.windows)
    intervention = "Fysiotherapie of oefentherapie door een fysio- of oefentherapeut (monodisciplinair)"
    rows = []
    for p in POPULATIONS:
        crucial = set(judgements[p].crucial_outcomes) if judgements else {"pain", "function"}
        outcomes = "; ".join(
            f"{outcome_name(o, p).lower()} ({'cruciaal' if o in crucial else 'belangrijk'})"
            for o in plan.outcomes_for(p)
        )
        rows.append([label("populations", p), intervention, comparators, f"{outcomes}; schaal 0-100", windows])
    columns = ["Populatie (P)", "Interventie (I)", "Vergelijking (C)", "Uitkomstmaten (O)", "Termijnen (T)"]
    return [b.Heading("PICO per populatie", level, "pico"), b.Table(columns, rows, caption="PICO per populatie")]


def prisma_blocks(counts: dict[str, Any]) -> list[b.Block]:
    """The PRISMA 2020 flow per population, from its screening log."""
    words = {k: labels()[k] for k in ("screening_sources", "screening_reasons")}
    out: list[b.Block] = []
    for p, c in counts.items():
        flow = c["screening"]
        title = f"Selectie van studies (PRISMA 2020): {short_name(p).lower()}"
        caption = (
            f"{title}. Uit het screeningslogboek evidence/{p}/screening.csv: {flow['screened']} records gescreend, "
            f"{flow['included_studies']} studies geïncludeerd."
        )
        out.append(b.Figure(prisma_flow(flow, words, title), caption, f"PRISMA-stroomdiagram {short_name(p)}"))
    return out


def method_blocks(counts: dict[str, Any], judgements: dict[str, Judgements], method: str, test: str) -> list[b.Block]:
    plan = load_plan()
    return [
        b.Heading("Methode", 2, "methode"),
        *pico_blocks(judgements),
        b.Heading("Zoeken en selectie", 3),
        b.Paragraph(search_text(counts)),
        *prisma_blocks(counts),
        b.Heading("Selectie van resultaten per analyse", 3),
        b.Bullets(selection_rules(plan)),
        b.Heading("Synthese zonder meta-analyse", 3),
        b.Paragraph(swim_text()),
        b.Heading("Effectmaten", 3),
        b.Paragraph(measures_text()),
        b.Heading("Model en het beleid bij weinig studies", 3),
        b.Paragraph(model_text(method, test)),
        b.Paragraph(small_k_text(plan)),
        b.Heading("GRADE", 3),
        b.Bullets(grade_rules_text()),
        b.Heading("Klinische relevantiegrenzen", 3),
        thresholds_table(judgements),
        b.Heading("Beslisregel van het Zorginstituut", 3),
        b.Paragraph(decision_rule_text()),
        b.Heading("Kantelpunten", 3),
        b.Paragraph(tipping_text()),
    ]


def swim_text() -> str:
    return (
        "Resultaten die binnen de PICO en de termijn vallen maar niet te poolen zijn (alleen beschrijvend "
        "gerapporteerd, zonder spreiding, zonder groepsgroottes of op een schaal zonder bekend bereik), staan per "
        "analyse naast de gepoolde schatting, één per studie, geteld naar de richting van het effect volgens de "
        "SWiM-richtlijn (Campbell et al., BMJ 2020;368:l6890) en Cochrane Handbook 12.2.2.5: in het voordeel van "
        "fysio- en oefentherapie, in het voordeel van de controlegroep, geen duidelijk verschil (de bron noemt geen "
        "richting), richting onduidelijk, of gemeten zonder gerapporteerd resultaat. Bij beschrijvende resultaten "
        "is de richting gecodeerd uit het bronfragment (kolom direction in results.csv), bij getallen volgt zij uit "
        "het teken van het verschil. P-waarden worden niet geteld."
    )


def search_text(counts: dict[str, Any]) -> str:
    per_pop = "; ".join(
        f"{short_name(p).lower()}: {c['studies']} studies, "
        f"{c['studies_with_poolable_pain_or_function']} met poolbare gegevens over pijn of functioneren"
        for p, c in counts.items()
    )
    return (
        "De evidence base (map evidence/) bevat gerandomiseerde studies die zijn overgenomen uit openbaar "
        "beschikbare bronnen (Cochrane-reviews, publicaties en samenvattingen), elk getal met adres en letterlijk "
        f"bronfragment. Per populatie: {per_pop}. Er is geen nieuwe systematische zoekactie gedaan; de selectie "
        "volgt uit de bronnen die in de evidence base zijn vastgelegd, met een screeningslogboek per populatie."
    )


def selection_rules(plan: AnalysisPlan) -> list[str]:
    """The plan's selection rules in words, in the order the selection applies them."""
    windows = "; ".join(
        f"{label('windows', k)}: doelmoment {shortest(w.target)} weken" for k, w in plan.windows.items()
    )
    substitutes = [
        f"{short_name(p).lower()}: {outcome_name(o, p).lower()} uit "
        + ", ".join(label("outcomes", c).lower() for c in plan.outcomes[o].substitutes[p])
        for o in plan.outcomes
        for p in plan.outcomes[o].substitutes
        if plan.outcomes[o].substitutes[p]
    ]
    return [
        "PICO-getrouwheid: de hoofdanalyses bevatten alleen studies die direct binnen de PICO passen (populatie, "
        "behandeling door een fysio- of oefentherapeut, vergelijking binnen de PICO). Studies die dat niet doen "
        "('indirect') staan in de sensitiviteitsanalyse 'inclusief indirecte studies'; het bestand van de "
        "beoordelaar kan ze opnemen, en GRADE stelt dan een afwaardering voor indirectheid voor.",
        "Uitkomsthiërarchie per populatie, zonder stille vervanging: bij lumbosacraal radiculair syndroom is "
        "beenpijn de pijnuitkomst en rugpijn een eigen, belangrijke uitkomst. Een vervangende uitkomstmaat wordt "
        "alleen gebruikt als een studie de directe niet rapporteert, staat in elke tabel vermeld en telt mee voor "
        "indirectheid" + (f" ({'; '.join(substitutes)})." if substitutes else "."),
        "Verandering of eindwaarde (Cochrane Handbook 10.5.2): per studie gaat een voor uitgangswaarden "
        "gecorrigeerd verschil voor, dan de verandering ten opzichte van de uitgangswaarde, dan de eindwaarde. Een "
        "MD-analyse mag veranderingen en eindwaarden combineren; een SMD-analyse niet: die neemt het type dat de "
        "meeste studies rapporteren.",
        f"Ongelijke uitgangswaarden: eindwaarden bij een verschil bij aanvang van ten minste "
        f"{percent(plan.imbalance_share)} van de relevantiegrens (op 0-100) worden in de hoofdanalyse niet gebruikt; "
        "de sensitiviteitsanalyse neemt ze op en de markering staat overal waar het resultaat verschijnt.",
        f"Termijnen: {windows}; per studie telt het meetmoment dat het dichtst bij het doelmoment ligt.",
        "Per studie en analyse één resultaat. Voorkeur: de directe uitkomstmaat, dan het type vergelijking ("
        + ", ".join(label("comparators", c) for c in plan.comparators)
        + "), het meetmoment, het type waarde en de gegevensvorm.",
        "De SMD-analyse gebruikt dezelfde studies als de MD-analyse, of de tekst bij de analyse zegt welke afwijken "
        "en waarom (bijvoorbeeld geen SD's per arm).",
    ]


def measures_text() -> str:
    return (
        "Continue uitkomsten worden gepoold als gemiddeld verschil op een schaal 0-100 (NRS 0-10 ×10, RMDQ ×100/24, "
        "ODI zoals gerapporteerd; per instrument vastgelegd in evidence/instruments.csv); alternatief als SMD "
        "(Hedges' g met exacte correctie) wanneer standaarddeviaties per arm beschikbaar zijn. Alle effecten zijn "
        "zo gericht dat een negatieve waarde in het voordeel van de therapie is. Ontbrekende SD's zijn afgeleid uit "
        "SE of 95%-BI (Cochrane Handbook 6.5.2.2); waar dat gebeurde staat het bij de analyse."
    )


def model_text(method: str, test: str) -> str:
    test_nl = "Knapp-Hartung (t-verdeling met k−1 vrijheidsgraden)" if test == "knha" else label("tests", test)
    return (
        f"Random-effects meta-analyse met τ²-schatter {method} en {test_nl}. Heterogeniteit: Q, I² met "
        "Q-profile-BI, 95%-predictie-interval. Sensitiviteitsanalyses: fixed effect, z-toets, inclusief indirecte "
        "studies, inclusief eindwaarden bij ongelijke uitgangswaarden, alleen laag risico op bias, per type "
        "vergelijking, leave-one-out en subgroepen per vergelijking; vanaf vijf studies een invloedsanalyse, vanaf "
        "tien een funnel plot met contouren. De rekenkern is gecontroleerd tegen R-metafor (afwijking < 10⁻⁶)."
    )


def small_k_text(plan: AnalysisPlan) -> str:
    """The policy for 2-4 studies, with its justification (Bender et al. 2018)."""
    small = plan.small_k
    if small is None:
        return "Bij weinig studies geldt hetzelfde model; er is geen apart beleid ingesteld."
    return (
        f"Bij 2 tot {small.max_k} studies is de spreiding tussen studies niet betrouwbaar te schatten, en geeft "
        "Knapp-Hartung met zo weinig vrijheidsgraden (bij twee studies een t-verdeling met 1 vrijheidsgraad) een "
        "interval dat weinig zegt. Daarom volgt het analyseplan Bender et al. (Methods for evidence synthesis in the "
        "case of very few studies. Res Synth Methods 2018;9:382-392): bij homogene studies (I² onder "
        f"{shortest(small.i2_below)}% en p van de Q-toets ten minste {num(small.q_p_at_least, 2)}) staat het "
        "fixed-effect-model voorop, met de kanttekening dat het geldt voor deze studies; bij heterogene studies "
        "random effects met de gemodificeerde Knapp-Hartung-methode (Röver et al. 2015), die nooit smaller is dan "
        "de z-toets; twee heterogene studies worden niet gepoold maar afzonderlijk beschreven. Het gewone "
        "random-effects-resultaat met Knapp-Hartung staat er altijd naast. Een interval uit een t-verdeling met "
        "1 vrijheidsgraad staat nooit zonder uitleg voorop. Eén studie wordt niet gepoold: het resultaat is dat "
        "van de studie."
    )


def grade_rules_text() -> list[str]:
    rules = load_rules()
    ri = rules.risk_of_bias
    return [
        "Zekerheid per uitkomst volgens GRADE (Cochrane Handbook hoofdstuk 14; GRADE-richtlijnen 4-8), start hoog "
        "voor gerandomiseerde studies. Per domein stellen de regels een niveau voor; het bestand van de "
        "beoordelaar kan dat met een reden wijzigen, en beide staan in het rapport.",
        f"Risico op bias: 1 niveau omlaag als meer dan {percent(ri.down_one_if_high_or_some_share_above)} van het "
        f"gewicht uit studies met hoog risico of enige zorgen komt, 2 als meer dan "
        f"{percent(ri.down_two_if_high_share_above)} uit hoog risico (PEDro ≥ {ri.pedro_low_from} = laag).",
        f"Inconsistentie: vanaf I² {shortest(rules.down_one_if_i2_at_least)}% (2 niveaus vanaf "
        f"{shortest(rules.down_two_if_i2_at_least)}%) als de studieschattingen of het predictie-interval aan beide "
        "kanten van de relevantiegrens liggen. Daarnaast 1 niveau omlaag als het gepoolde 95%-BI een voordeel "
        "laat zien en niet-gepoolde studies met geen duidelijk verschil of een voordeel voor de controlegroep ten "
        f"minste {percent(rules.unpooled_conflict_share)} van de deelnemers hebben (GRADE-richtlijn 7: "
        "inconsistentie over alle studies van de uitkomst).",
        f"Indirectheid (GRADE-richtlijn 8): het aandeel van het gewicht uit indirect bewijs (studies buiten de PICO, "
        f"alleen als de beoordelaar ze opneemt, en vervangende uitkomstmaten): 1 niveau omlaag boven "
        f"{percent(rules.indirect_down_one_above)}, 2 boven {percent(rules.indirect_down_two_above)}.",
        "Onnauwkeurigheid (GRADE-richtlijn 6): het 95%-BI tegen de relevantiegrens en nul, en de optimale "
        f"informatiegrootte ({rules.optimal_information_size} deelnemers), ook bij één studie. Overschrijdt het BI "
        "de relevantiegrens en is de optimale informatiegrootte niet gehaald, dan 2 niveaus omlaag: één kleine "
        "studie geeft zo ten hoogste een lage zekerheid. Zijn niet alle groepsgroottes bekend en blijven de bekende "
        "onder de optimale informatiegrootte, dan telt die als niet gehaald.",
        f"Publicatiebias: alleen vanaf {rules.publication_min_studies} studies (Egger-toets, Cochrane Handbook "
        "13.3.5.4).",
        "Klinische relevantie: een schatting precies op de relevantiegrens ligt er niet voorbij; 'klinisch "
        "relevant' betekent dat het hele 95%-BI voorbij de grens ligt, 'mogelijk klinisch relevant' dat de "
        "schatting er voorbij ligt maar het BI de grens overschrijdt.",
    ]


def thresholds_table(judgements: dict[str, Judgements]) -> b.Table:
    rows = [
        [short_name(p), outcome_name(o, p), shortest(t["MD100"]), shortest(t["SMD"]), t["source"]]
        for p, j in judgements.items()
        for o, t in j.thresholds.items()
    ]
    return b.Table(["Populatie", "Uitkomst", "MD 0-100", "SMD", "Bron"], rows, caption="Klinische relevantiegrenzen")


def decision_rule_text() -> str:
    return (
        "Het Zorginstituut beoordeelt of een behandeling voldoet aan de stand van de wetenschap en praktijk "
        "(Beoordeling stand van de wetenschap en praktijk, 2015). De regel wordt per type vergelijking toegepast. "
        f"{rule_by_design()} Dat moet gelden op ten minste één cruciale "
        "uitkomstmaat, met ten minste de zekerheid die het bestand van de beoordelaar vraagt, en zonder belangrijke "
        "schade (een ernstige bijwerking die een studie aan de therapie toeschrijft). Elke stap staat bij de "
        "conceptconclusie van de populatie."
    )


def tipping_text() -> str:
    return (
        "Per populatie wordt berekend welke ene keuze van de beoordelaar de conceptconclusie zou omdraaien: de "
        "relevantiegrens van elke cruciale uitkomstmaat (van 1 tot 30 punten in stappen van 0,5), de vereiste "
        "zekerheid, indirecte studies wel of niet in de hoofdanalyse, het beleid bij weinig studies, de regel "
        "voor studies zonder risico-op-bias-oordeel en of gelijke waarde ook volstaat tegenover schijn-, minimale of "
        "geen behandeling. Elke keuze wordt afzonderlijk gewijzigd en de hele beoordeling "
        "opnieuw berekend; niets daarvan is met de hand ingevuld."
    )
