"""Docstrings as one line of terminal text, for the listings of ``lamina names`` and ``lamina data list``."""

from __future__ import annotations

import re

__all__ = ["plain", "summary"]


def plain(text: str) -> str:
    """Sphinx roles and double backticks dropped (``:class:`~lamina.generative.Autoencoder``` -> ``Autoencoder``)."""
    text = re.sub(r":\w+:`~?(?:[\w.]*\.)?([^`]+)`", r"\1", text)
    return text.replace("``", "")


def summary(doc: str | None) -> str:
    """The first sentence of a docstring's first paragraph, on one line, as :func:`plain` text ("" for none).

    A sentence ends at a full stop followed by whitespace, not after "e.g.", "i.e.", "et al.", "cf." or "vs."; a
    paragraph at a blank line (so "Args:" never shows)."""
    paragraph = re.split(r"\n\s*\n", (doc or "").strip(), maxsplit=1)[0]
    line = " ".join(paragraph.split())
    return plain(_SENTENCE_END.split(line, maxsplit=1)[0])


_SENTENCE_END = re.compile(r"(?<!e\.g\.)(?<!i\.e\.)(?<!et al\.)(?<!cf\.)(?<!vs\.)(?<=\.)\s")
