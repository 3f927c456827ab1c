"""Number formatting for the Dutch report (decimal comma, real minus sign)."""

from __future__ import annotations


def nl(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "–"
    return f"{x:.{digits}f}".replace("-", "−").replace(".", ",")


def en(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "–"
    return f"{x:.{digits}f}".replace("-", "−")


def studies_nl(k: int) -> str:
    return f"{k} studie" if k == 1 else f"{k} studies"


def studies_en(k: int) -> str:
    return f"{k} study" if k == 1 else f"{k} studies"


def g_nl(x: float) -> str:
    """Shortest form of a threshold, Dutch style: 10, 0,5."""
    return f"{x:g}".replace("-", "−").replace(".", ",")
