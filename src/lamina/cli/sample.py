"""``lamina sample RUN``: text drawn from a trained character-level language model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lamina.cli.app import app, fail, handle_errors
from lamina.errors import DataError

__all__ = ["sample", "sample_text"]


def sample_text(
    run_dir: str | Path,
    *,
    length: int = 500,
    temperature: float = 1.0,
    prime: str = "\n",
    seed: int | None = None,
    device: str = "cpu",
) -> str:
    """``length`` characters drawn from the language model of a run, continuing ``prime``.

    Raises:
        DataError: the run's data is not a character-level text, or ``prime`` holds a character outside the
            vocabulary.
    """
    import torch

    from lamina.nn.sampling import sample_sequence
    from lamina.train.runs import Run

    run = Run.open(run_dir)
    data = run.experiment.data
    if not hasattr(data, "vocabulary"):
        raise DataError(
            f"{run_dir}: trained on {data.type_name!r}, not a character-level text dataset "
            "(such as tinyshakespeare); there is no vocabulary to sample from"
        )
    vocab = data.vocabulary()
    ids = vocab.encode(prime)
    if len(ids) == 0:
        raise DataError("--prime is empty; give at least one character to start from")
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    model = run.model.to(device)
    drawn = sample_sequence(model, ids, length, temperature=temperature, generator=generator)
    return vocab.decode(drawn)


@app.command()
@handle_errors
def sample(
    run: Annotated[Path, typer.Argument(help="A run folder of a character-level language model.")],
    length: Annotated[int, typer.Option(help="Characters to generate.")] = 500,
    temperature: Annotated[float, typer.Option(help="Softmax temperature: < 1 safer, > 1 more varied.")] = 1.0,
    prime: Annotated[str, typer.Option(help="Text to start from (printed before the sample).")] = "\n",
    seed: Annotated[int | None, typer.Option(help="Seed of the draws (default: a different sample each time).")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the text to this file.")] = None,
) -> None:
    """Generate text from a trained character-level language model (e.g. examples/char_lstm.toml)."""
    if length < 1:
        raise fail(f"--length must be a positive integer, got {length}")
    if not temperature > 0:
        raise fail(f"--temperature must be > 0, got {temperature}")
    text = prime + sample_text(run, length=length, temperature=temperature, prime=prime, seed=seed)
    print(text)
    if out is not None:
        out.write_text(text, encoding="utf-8")
