"""The HTML writer: blocks into one self-contained page (styles, figures and the small
sort/filter script embedded; nothing is fetched), or into a fragment for a notebook cell."""

from __future__ import annotations

from functools import cache
from importlib import resources

import jinja2

from .. import __version__
from .blocks import Block


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        loader=jinja2.FunctionLoader(
            lambda name: resources.files(__package__).joinpath(f"templates/{name}").read_text("utf-8")
        ),
    )
    return env


def page(blocks: list[Block], toc: list[tuple[str, str]], title: str, subtitle: str) -> str:
    """The whole report: banner, title, table of contents (anchor, text) and the blocks."""
    template = _environment().get_template("report.html.j2")
    return template.render(blocks=blocks, toc=toc, title=title, subtitle=subtitle, version=__version__, plain=False)


def fragment(blocks: list[Block]) -> str:
    """Blocks alone, with the report's styles but no report chrome: for notebook output."""
    template = _environment().get_template("fragment.html.j2")
    return template.render(blocks=blocks, plain=True)
