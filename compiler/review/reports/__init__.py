"""Reports of `score test` and `score diff`: view models built in Python, laid out by Jinja2.

Templates (`templates/*.j2`) only lay out values; every decision (what failed, which bars,
how tall, what a change reads like) is made in `views.py` and `charts.py`. JSON reports are
built in Python from the same view models.
"""
from __future__ import annotations

import json
from functools import lru_cache

import jinja2

FORMATS = ("text", "markdown", "json", "html")
_SUFFIX = {"text": "txt", "markdown": "md", "html": "html"}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("compiler.review.reports", "templates"),  # zips too
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=False, default=False),
    )


def render(report: str, view: dict, fmt: str = "text") -> str:
    """`report` is `test`, `diff` or `journeys`; `fmt` one of text, markdown, html."""
    if fmt not in _SUFFIX:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {FORMATS}")
    template = environment().get_template(f"{report}.{_SUFFIX[fmt]}.j2")
    return template.render(**view)


def dump_json(data) -> str:
    """A JSON report: stable key order, UTF-8 kept, newline at the end."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


COMMENT_LIMIT = 65_536  # characters of a GitHub pull-request comment


def diff_report(review, fmt: str) -> str:
    """The `score diff` report in `fmt`. Markdown is made to fit a pull-request comment: the
    rule changes, changed contacts and periods it lists are cut in steps (each cut counted in
    the report, the full lists being in the text, HTML and JSON reports) until it fits."""
    from .views import MARKDOWN_CHANGES, MARKDOWN_CONTACTS, MARKDOWN_PERIODS, diff_view

    if fmt == "json":
        return dump_json(review.to_json())
    if fmt != "markdown":
        return render("diff", diff_view(review), fmt)
    text = ""
    for scale in (1, 4, 16, 64):
        text = render("diff", diff_view(review, MARKDOWN_CHANGES // scale,
                                        MARKDOWN_CONTACTS // scale,
                                        MARKDOWN_PERIODS // scale), fmt)
        if len(text) <= COMMENT_LIMIT:
            return text
    notice = "\n\n… the report is cut here to fit a pull-request comment: see the HTML report.\n"
    return text[:COMMENT_LIMIT - len(notice)] + notice
