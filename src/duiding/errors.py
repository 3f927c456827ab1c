"""Errors that reach the user as one clear line each (see cli.main)."""

from __future__ import annotations


class RenderError(RuntimeError):
    """A notebook failed while rendering; the message names it, its parameters and the error."""
