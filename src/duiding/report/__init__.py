"""The report: what readers see, in Dutch. Typed blocks, the HTML and DOCX writers, the
figures, the population and evidence sections and the chapters around them, the manifest
and the changes since the previous report, the render pipeline and the notebooks' verbs.

This room may import every other room (meta, evidence, grade) and the configuration;
nothing imports it but the command line. All Dutch labels come from
``config/labels.yaml`` through :mod:`.text`.

Public names: ``render`` (``duiding render``), ``load_manifest``, ``compare`` and
``describe`` (``duiding diff``), and the modules :mod:`.notebook` (the notebooks' verbs)
and :mod:`.text` (labels and number style).
"""

from importlib import import_module
from typing import Any

# Imported on first use: the render pipeline pulls in matplotlib and papermill, which a
# command such as ``duiding diff`` does not need.
_PUBLIC = {"compare": "changes", "describe": "changes", "load_manifest": "manifest", "render": "pipeline"}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
