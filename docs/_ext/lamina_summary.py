"""Autosummary's one-line summaries, cut at the first full stop outside an inline literal.

Sphinx cuts a docstring's first sentence at any ``". "``, including one inside ``\\`\\`...\\`\\``` (``f(... f(x))``),
which leaves an unterminated literal and a warning; this keeps the literal whole.
"""

from __future__ import annotations

import re

import sphinx.ext.autosummary as autosummary

_original = autosummary.extract_summary


def extract_summary(doc: list[str], document) -> str:
    paragraph = []
    for line in doc:
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    text = " ".join(paragraph)
    if "``" not in text:
        return _original(doc, document)
    pieces = text.split("``")
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:  # outside a literal
            match = re.search(r"\.(\s|$)", piece)
            if match:
                out.append(piece[: match.start() + 1])
                return "``".join(out)
        out.append(piece)
    return text


def setup(app):
    autosummary.extract_summary = extract_summary
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
