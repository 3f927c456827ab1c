"""The evidence base's data dictionary as code: one declaration per column.

``evidence/README.md`` documents the same columns for people; the validator, the loader
and the report all read these declarations, so a code list lives in exactly one place
(the Dutch names of the codes live in ``config/labels.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass

POPULATIONS = ("nonspecific", "radicular", "postsurgery")
CONDITIONS = {
    "nonspecific": ("acute", "subacute", "chronic", "mixed"),
    "radicular": ("disc_herniation", "stenosis", "mixed", "sciatica_unspecified"),
    "postsurgery": ("discectomy", "decompression", "fusion", "mixed"),
}
OUTCOMES = (
    "pain",
    "back_pain",
    "leg_pain",
    "function",
    "global_effect",
    "quality_of_life",
    "work",
    "surgery",
    "walking",
    "symptom_severity",
    "adverse_events",
    "other",
)
COMPARATOR_TYPES = (
    "usual_care",
    "no_treatment",
    "waiting_list",
    "placebo_sham",
    "minimal",
    "other_active",
)
DATA_FORMS = (
    "arms_sd",
    "arms_se",
    "arms_ci",
    "arms_mean_only",
    "effect_ci",
    "effect_se",
    "events",
    "narrative",
)
# The direction of a narrative result as its source states it (Campbell et al. 2020, SWiM;
# Cochrane Handbook 12.2.2.5: vote counting on the direction of effect, never on p-values).
# no_clear_difference: the source says the groups did not (significantly) differ without
# giving the direction; not_reported: the outcome was measured, no result is printed.
DIRECTIONS = (
    "favours_intervention",
    "favours_control",
    "no_clear_difference",
    "unclear",
    "not_reported",
)
ROB2_DOMAINS = (
    "randomisation",
    "deviations",
    "missing_data",
    "measurement",
    "reporting",
    "overall",
)
ROB1_DOMAINS = (
    "sequence_generation",
    "allocation_concealment",
    "blinding_participants",
    "blinding_providers",
    "blinding_outcome",
    "incomplete_outcome",
    "selective_reporting",
    "other",
)
ROB_DOMAINS = {"RoB2": ROB2_DOMAINS, "RoB1": ROB1_DOMAINS, "PEDro": ("total",)}
ROB_JUDGEMENTS = {
    "RoB2": ("low", "some", "high"),
    "RoB1": ("low", "unclear", "high"),
    "PEDro": tuple(str(i) for i in range(11)),
}
YES_NO = ("yes", "no")
PROVIDERS = ("physiotherapist", "exercise_therapist", "mixed", "other", "unclear")
ELIGIBILITY = ("include", "indirect", "exclude")
DESIGNS = ("add_on", "replacement", "unclear")
WINDOWS = ("short", "intermediate", "long")
CERTAINTY_LEVELS = ("high", "moderate", "low", "very_low")
# Why a review row cannot be set beside one of our analyses (review_results.link_reason).
LINK_REASONS = (
    "no_window",
    "active_comparator",
    "mixed_comparators",
    "other_intervention",
    "other_population",
    "log_scale",
    "scale_unknown",
)
IDENTIFIED_VIA = ("review", "database", "register", "other")
SCREENING_DECISIONS = ("include", "duplicate", "exclude_screening", "not_retrieved", "exclude_full_text")
EXCLUSION_REASONS = (
    "population",
    "intervention",
    "provider",
    "comparator",
    "design",
    "outcome",
    "no_data",
    "not_available",
    "language",
    "other",
)

# Columns that define each data form (arm columns are suffixed _int and _ctl). Arm sizes
# are not among them: a source that omits them is recorded as missing, and the analysis
# reports such a result as not poolable instead of rejecting the file.
REQUIRED_BY_FORM = {
    "arms_sd": ("mean", "sd"),
    "arms_se": ("mean", "se"),
    "arms_ci": ("mean", "ci_low", "ci_high"),
    "arms_mean_only": ("mean",),
    "events": ("n", "events"),
    "effect_ci": ("effect", "effect_ci_low", "effect_ci_high"),
    "effect_se": ("effect", "effect_se"),
    "narrative": (),
}
ARM_FIELDS = ("n", "mean", "sd", "se", "ci_low", "ci_high", "events")


@dataclass(frozen=True)
class Col:
    """One column: its kind, whether a value is required, allowed codes, numeric bounds."""

    kind: str = "text"  # text | number | integer | code
    required: bool = False
    codes: tuple[str, ...] = ()
    minimum: float | None = None
    exclusive_min: bool = False
    maximum: float | None = None
    unique: bool = False


def _arm_columns() -> dict[str, Col]:
    cols: dict[str, Col] = {}
    for arm in ("int", "ctl"):
        cols[f"n_{arm}"] = Col("number", minimum=0, exclusive_min=True)
        cols[f"mean_{arm}"] = Col("number")
        cols[f"sd_{arm}"] = Col("number", minimum=0, exclusive_min=True)
        cols[f"se_{arm}"] = Col("number", minimum=0, exclusive_min=True)
        cols[f"ci_low_{arm}"] = Col("number")
        cols[f"ci_high_{arm}"] = Col("number")
        cols[f"events_{arm}"] = Col("integer", minimum=0)
    return cols


SCHEMAS: dict[str, dict[str, Col]] = {
    "instruments": {
        "instrument": Col(required=True, unique=True),
        "name": Col(required=True),
        "domain": Col("code", required=True, codes=OUTCOMES),
        "scale_min": Col("number"),
        "scale_max": Col("number"),
        "higher_is_better": Col("code", required=True, codes=YES_NO),
        "rescale_to_100": Col("code", required=True, codes=YES_NO),
        "notes": Col(),
    },
    "studies": {
        "study_id": Col(required=True, unique=True),
        "population": Col("code", required=True, codes=POPULATIONS),
        "citation": Col(required=True),
        "year": Col("integer", required=True, minimum=1950, maximum=2100),
        "doi": Col(),
        "pmid": Col("integer", minimum=1),
        "country": Col(),
        "condition": Col("code", required=True, codes=tuple(sorted({c for v in CONDITIONS.values() for c in v}))),
        "condition_note": Col(),
        "intervention": Col(required=True),
        "provider": Col("code", required=True, codes=PROVIDERS),
        "n_randomised": Col("integer", minimum=0, exclusive_min=True),
        "eligibility": Col("code", required=True, codes=ELIGIBILITY),
        "eligibility_note": Col(),
        "source_url": Col(required=True),
        "notes": Col(),
    },
    "results": {
        "result_id": Col(required=True, unique=True),
        "study_id": Col(required=True),
        "comparison": Col(required=True),
        "comparator_type": Col("code", required=True, codes=COMPARATOR_TYPES),
        "comparison_design": Col("code", required=True, codes=DESIGNS),
        "outcome": Col("code", required=True, codes=OUTCOMES),
        "instrument": Col(),  # required unless data_form is narrative (checked across columns)
        "timepoint_weeks": Col("number", minimum=0),
        "timepoint_note": Col(),
        "value_type": Col("code", required=True, codes=("final", "change")),
        "data_form": Col("code", required=True, codes=DATA_FORMS),
        **_arm_columns(),
        "effect_measure": Col("code", codes=("MD", "SMD", "RR", "OR", "HR")),
        "effect": Col("number"),
        "effect_ci_low": Col("number"),
        "effect_ci_high": Col("number"),
        "effect_se": Col("number", minimum=0, exclusive_min=True),
        "effect_definition": Col("code", codes=("int_minus_ctl", "ctl_minus_int", "int_over_ctl")),
        "adjusted": Col("code", codes=YES_NO),
        "n_basis": Col("code", required=True, codes=("analysed", "randomised", "unclear")),
        "baseline_mean_int": Col("number"),
        "baseline_mean_ctl": Col("number"),
        "notes": Col(),
        # narrative rows: the direction the source states (SWiM; Cochrane Handbook 12.2.2.5)
        "direction": Col("code", codes=DIRECTIONS),
    },
    "sources": {
        "result_id": Col(required=True, unique=True),
        "source_url": Col(required=True),
        "location": Col(),
        "excerpt": Col(required=True),
    },
    "risk_of_bias": {
        "study_id": Col(required=True),
        "outcome": Col("code", codes=OUTCOMES),
        "tool": Col("code", required=True, codes=tuple(ROB_DOMAINS)),
        "domain": Col(required=True),
        "judgement": Col(required=True),
        "source_url": Col(required=True),
        "location": Col(),
        "excerpt": Col(required=True),
    },
    "review_results": {
        "review_id": Col(required=True),
        "population": Col("code", required=True, codes=POPULATIONS),
        "comparison": Col(required=True),
        "outcome": Col("code", required=True, codes=OUTCOMES),
        "timepoint_note": Col(),
        "timepoint_weeks": Col("number", minimum=0),
        "window": Col("code", codes=WINDOWS),
        "effect_measure": Col("code", required=True, codes=("MD", "SMD", "RR", "OR")),
        "effect": Col("number", required=True),
        "ci_low": Col("number"),
        "ci_high": Col("number"),
        "effect_definition": Col("code", codes=("int_minus_ctl", "ctl_minus_int", "int_over_ctl")),
        "scale_note": Col(),
        "n_studies": Col("integer", minimum=1),
        "n_participants": Col("integer", minimum=1),
        "certainty": Col("code", codes=CERTAINTY_LEVELS),
        "link_reason": Col("code", codes=LINK_REASONS),
        "link_note": Col(),
        "source_url": Col(required=True),
        "location": Col(),
        "excerpt": Col(required=True),
        "notes": Col(),
    },
    "harms": {
        "harm_id": Col(required=True, unique=True),
        "study_id": Col(required=True),
        "comparison": Col(),
        "timepoint_note": Col(),
        "event": Col(required=True),
        "severity": Col("code", required=True, codes=("serious", "non_serious", "any")),
        "finding": Col("code", required=True, codes=("none", "reported")),
        "related": Col("code", codes=("yes", "no", "unclear")),
        "events_int": Col("integer", minimum=0),
        "n_int": Col("number", minimum=0, exclusive_min=True),
        "events_ctl": Col("integer", minimum=0),
        "n_ctl": Col("number", minimum=0, exclusive_min=True),
        "source_url": Col(required=True),
        "location": Col(),
        "excerpt": Col(required=True),
        "notes": Col(),
    },
    "reported_outcomes": {
        "study_id": Col(required=True),
        "outcome": Col("code", required=True, codes=OUTCOMES),
        "timepoint_weeks": Col("number", minimum=0),
        "timepoint_note": Col(),
        "source_url": Col(required=True),
        "location": Col(),
        "excerpt": Col(required=True),
        "notes": Col(),
    },
    "screening": {
        "record_id": Col(required=True, unique=True),
        "citation": Col(required=True),
        "year": Col("integer", minimum=1950, maximum=2100),
        "doi": Col(),
        "pmid": Col("integer", minimum=1),
        "identified_via": Col("code", required=True, codes=IDENTIFIED_VIA),
        "identified_from": Col(required=True),
        "decision": Col("code", required=True, codes=SCREENING_DECISIONS),
        "reason": Col("code", codes=EXCLUSION_REASONS),
        "reason_note": Col(),
        "duplicate_of": Col(),
        "study_id": Col(),
        "source_url": Col(required=True),
        "notes": Col(),
    },
}

POPULATION_FILES = (
    "studies",
    "results",
    "sources",
    "risk_of_bias",
    "review_results",
    "harms",
    "reported_outcomes",
    "screening",
)
