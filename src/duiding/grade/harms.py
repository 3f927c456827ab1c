"""Harms per population, as the trials report them, for the "no important harm" step of
ZIN's rule.

The rule (``config/grade_rules.yaml`` ``harms``): important harm is a serious adverse
event that a trial reports and attributes to the therapy; without any trial that reports
on harms the step cannot be assessed; otherwise no important harm is apparent. The
summary counts trials, never p-values.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..evidence import EvidenceBase


@dataclass(frozen=True)
class HarmsSummary:
    population: str
    rows: pd.DataFrame  # the harms rows of this population
    studies_reporting: list[str]
    studies_no_events: list[str]  # report no (serious) adverse events
    studies_serious_related: list[str]  # a serious event attributed to the therapy
    studies_serious_unclear: list[str]  # a serious event, attribution unclear or not stated

    @property
    def level(self) -> str:
        """no_data | important_harm | no_important_harm."""
        if not self.studies_reporting:
            return "no_data"
        return "important_harm" if self.studies_serious_related else "no_important_harm"


def harms_summary(ev: EvidenceBase, population: str) -> HarmsSummary:
    rows = ev.of("harms", population)
    reported = rows["finding"] == "reported"
    serious = rows["severity"] == "serious"

    def studies(mask: pd.Series) -> list[str]:
        return sorted(set(rows.loc[mask, "study_id"]))

    return HarmsSummary(
        population=population,
        rows=rows,
        studies_reporting=studies(rows["study_id"].notna()),
        studies_no_events=studies(rows["finding"] == "none"),
        studies_serious_related=studies(reported & serious & rows["related"].eq("yes")),
        studies_serious_unclear=studies(reported & serious & ~rows["related"].isin(("yes", "no"))),
    )
