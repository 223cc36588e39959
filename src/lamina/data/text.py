"""Character-level text: Tiny Shakespeare (Karpathy's char-rnn, 2015), split as char-rnn splits it (the first 95% of
the characters for training, the next 5% for validation), cut into windows of ``seq_length`` characters whose
targets are the same windows shifted by one (next-character prediction).

Inputs are int64 character indices ``(N, seq_length)``; targets ``(N, seq_length)``. A language model over them is
``embedding -> lstm (return_sequences) -> time_distributed dense`` trained with ``cross_entropy``, whose value is
the loss in nats per character.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from pydantic import model_validator

from lamina.config.fields import count, raise_problems
from lamina.data.dataset import ArrayDataset, DatasetSpec, Holdout, Splits
from lamina.data.sources import RemoteFile, fetch
from lamina.errors import DataError
from lamina.registry import register

__all__ = ["CharVocabulary", "TextDatasetSpec", "TinyShakespeare", "char_windows", "TINYSHAKESPEARE_FILE"]

TINYSHAKESPEARE_FILE = RemoteFile(
    "tinyshakespeare",
    "input.txt",
    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
    size=1115394,
)


@dataclass(frozen=True)
class CharVocabulary:
    """The characters of a text, in sorted order; character ``chars[i]`` has index ``i``."""

    chars: str

    @classmethod
    def of(cls, text: str) -> CharVocabulary:
        """The sorted set of the characters in ``text``."""
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        """``text`` as int64 indices.

        Raises:
            DataError: a character outside the vocabulary, named with its position.
        """
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = [(pos, c) for pos, c in enumerate(text) if c not in index]
        if unknown:
            pos, c = unknown[0]
            raise DataError(
                f"character {c!r} (position {pos} of {text[:40]!r}) is not in the vocabulary of "
                f"{len(self.chars)} characters: {self.chars!r}"
            )
        return torch.tensor([index[c] for c in text], dtype=torch.long)

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        """Indices back to text."""
        return "".join(self.chars[int(i)] for i in ids)


def char_windows(ids: torch.Tensor, seq_length: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Windows ``ids[s : s + L]`` (inputs) and ``ids[s + 1 : s + L + 1]`` (targets) for ``s = 0, stride, ...``.

    Returns:
        ``(inputs, targets)``, each ``(N, seq_length)``; a tail shorter than a window is dropped.
    """
    n = (len(ids) - seq_length - 1) // stride + 1 if len(ids) > seq_length else 0
    if n < 1:
        return torch.empty(0, seq_length, dtype=torch.long), torch.empty(0, seq_length, dtype=torch.long)
    windows = ids.unfold(0, seq_length + 1, stride)[:n]  # (N, L + 1), views of ids
    return windows[:, :-1].contiguous(), windows[:, 1:].contiguous()


class TextDatasetSpec(DatasetSpec):
    """A character-level text split into contiguous train / validation / test parts, then into windows.

    Args:
        seq_length: characters per example (char-rnn's default: 50).
        stride: characters between the starts of consecutive windows (default ``seq_length``: no overlap).
        validation: the part after the training text, in characters or as a fraction (char-rnn: 5%).
        test: the part after that (char-rnn: none).
        max_chars: use only the first ``max_chars`` characters (quick experiments; the vocabulary stays the whole
            text's).
    """

    file: ClassVar[RemoteFile]

    seq_length: count(2) = 100
    stride: count() | None = None
    validation: Holdout = 0.05
    test: Holdout = 0
    max_chars: count() | None = None

    @model_validator(mode="after")
    def _check(self) -> TextDatasetSpec:
        if self.split_seed is not None:
            raise_problems(
                "text",
                [
                    (
                        ("split_seed",),
                        "a text is split into contiguous parts; there is nothing to shuffle, so leave split_seed out",
                    )
                ],
            )
        return self

    def text(self) -> str:
        """The whole text (read, and sha256-checked, from ``$LAMINA_DATA``, the cache or the network)."""
        return fetch(self.file).read_text(encoding="utf-8")

    def vocabulary(self) -> CharVocabulary:
        """The characters of the whole text (as char-rnn builds it)."""
        return CharVocabulary.of(self.text())

    def load(self) -> Splits:
        """Split the text into contiguous training, validation and test parts, each cut into
        :func:`char_windows` of ``seq_length`` character ids (an empty part is ``None``).

        Raises:
            DataError: the training part is not longer than a window, or a split holds no window.
        """
        text = self.text()
        vocab = CharVocabulary.of(text)
        ids = vocab.encode(text[: self.max_chars])
        n = len(ids)
        n_val, n_test = (round(h * n) if isinstance(h, float) else h for h in (self.validation, self.test))
        n_train = n - n_val - n_test
        if n_train <= self.seq_length:
            raise DataError(
                f"{self.registered_name}: validation = {self.validation} and test = {self.test} leave "
                f"{n_train} training characters, fewer than a window of {self.seq_length + 1}"
            )
        stride = self.stride or self.seq_length
        parts = (ids[:n_train], ids[n_train : n_train + n_val], ids[n_train + n_val :])
        classes = list(vocab.chars)
        out = []
        for part, size in zip(parts, (n_train, n_val, n_test)):
            if size == 0:
                out.append(None)
                continue
            x, y = char_windows(part, self.seq_length, stride)
            if len(x) == 0:
                raise DataError(
                    f"{self.registered_name}: a split of {size} characters holds no window of "
                    f"{self.seq_length + 1}; lower seq_length or enlarge the split"
                )
            out.append(ArrayDataset(x, y, classes=classes, name=self.registered_name))
        return Splits(*out)


@register("dataset", "tinyshakespeare", aliases=("tiny_shakespeare",))
class TinyShakespeare(TextDatasetSpec):
    """Tiny Shakespeare: 1,115,394 characters of Shakespeare's plays, 65 distinct characters (Karpathy, 2015,
    char-rnn); split 95% / 5% into training and validation text, as char-rnn does."""

    file: ClassVar[RemoteFile] = TINYSHAKESPEARE_FILE
    files: ClassVar[dict[str, RemoteFile]] = {"input.txt": TINYSHAKESPEARE_FILE}
