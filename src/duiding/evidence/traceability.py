"""Is every number of a result row in its verbatim source excerpt?

Signs are ignored (sources print minus as '‐', '–', '−' or say 'lower'); numbers may be
written as '.69' or as words ('Twenty-seven'). A value counts as traced when the same
absolute number occurs in the excerpt.
"""

from __future__ import annotations

import re

_UNIT_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)

_TEN_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
UNITS = {w: i for i, w in enumerate(_UNIT_WORDS)}
TENS = {w: 10 * (i + 2) for i, w in enumerate(_TEN_WORDS)}
_DIGITS = re.compile(r"\d+(?:[.,·]\d+)?|(?<![\w.,·])[.,·]\d+")
_WORDS = re.compile(
    r"\b(" + "|".join(TENS) + r")(?:[\s\-‐–](" + "|".join(UNITS) + r"))?\b|\b(" + "|".join(UNITS) + r")\b",
    re.IGNORECASE,
)


def numbers_in(text: str) -> set[float]:
    """All absolute numbers printed in ``text``, in digits or in words."""
    found: set[float] = set()
    for token in _DIGITS.findall(text):
        token = token.replace("·", ".")
        if "," in token:  # decimal comma (e.g. '1,5') or thousands separator ('1,500')
            whole, _, frac = token.partition(",")
            found.add(float(f"{whole}.{frac}"))
            found.add(float(whole + frac))
            continue
        found.add(float(token))
    for tens, unit, single in _WORDS.findall(text):
        if tens:
            found.add(TENS[tens.lower()] + (UNITS[unit.lower()] if unit else 0))
        else:
            found.add(UNITS[single.lower()])
    return found


def is_traced(value: float, excerpt_numbers: set[float]) -> bool:
    target = abs(value)
    return any(abs(target - x) <= 1e-9 * max(1.0, target) for x in excerpt_numbers)
