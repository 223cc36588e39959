"""Sampling from a language model: the step-by-step path against re-running the whole prefix; temperature;
`lamina sample` on a trained run, and a character outside the vocabulary."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

import lamina
from lamina.cli import app
from lamina.nn import sampling
from lamina.nn.sampling import RecurrentStepper, next_token, sample_sequence
from tests.data.test_text import needs_shakespeare

CHAR_LM = [
    {"type": "embedding", "num_embeddings": 11, "embedding_dim": 6},
    {
        "type": "stacked_rnn",
        "num_layers": 2,
        "residual": True,
        "return_sequences": True,
        "layer": {"type": "lstm", "units": 6},
    },
    {"type": "dropout", "p": 0.2},
    {"type": "gru", "units": 5, "return_sequences": True},
    {"type": "time_distributed", "layer": {"type": "dense", "units": 11}},
]


def _model(spec=CHAR_LM):
    torch.manual_seed(0)
    return lamina.build_model(spec, (8,)).eval()


def test_stepping_gives_the_logits_of_the_whole_prefix():
    model = _model()
    tokens = torch.randint(0, 11, (1, 9))
    stepper = RecurrentStepper(model)
    first = stepper.step(tokens[:, :4])  # a prefix at once, then one token at a time
    torch.testing.assert_close(first, model(tokens[:, :4])[0, -1])
    for t in range(4, 9):
        torch.testing.assert_close(stepper.step(tokens[:, t : t + 1]), model(tokens[:, : t + 1])[0, -1])


def test_stepped_and_rerun_samples_agree(monkeypatch):
    model = _model()
    prime = torch.tensor([1, 2, 3])
    stepped = sample_sequence(model, prime, 30, temperature=0.9, generator=torch.Generator().manual_seed(5))
    monkeypatch.setattr(RecurrentStepper, "supports", staticmethod(lambda model: False))
    rerun = sample_sequence(model, prime, 30, temperature=0.9, generator=torch.Generator().manual_seed(5))
    assert torch.equal(stepped, rerun)


def test_models_that_cannot_step_are_rerun():
    model = _model(
        [
            CHAR_LM[0],
            {"type": "self_attention", "causal": True, "heads": 2},
            {"type": "time_distributed", "layer": {"type": "dense", "units": 11}},
        ]
    )
    assert not RecurrentStepper.supports(model)
    assert sample_sequence(model, torch.tensor([4]), 12, generator=torch.Generator().manual_seed(0)).shape == (12,)


def test_next_token_draws_from_the_tempered_softmax():
    logits = torch.tensor([1.0, 0.0, -1.0, 2.0])
    g = torch.Generator().manual_seed(0)
    counts = torch.bincount(torch.tensor([next_token(logits, 0.5, g) for _ in range(20000)]), minlength=4)
    expected = torch.softmax(logits / 0.5, dim=0)
    assert torch.allclose(counts / 20000, expected, atol=0.01)
    assert next_token(logits, 1e-4, g) == 3  # a tiny temperature is the argmax


def test_bad_arguments():
    model = _model()
    with pytest.raises(ValueError, match="`temperature` must be > 0, got 0"):
        sample_sequence(model, torch.tensor([1]), 5, temperature=0)
    with pytest.raises(ValueError, match="`prime` must hold at least one token"):
        sample_sequence(model, torch.tensor([], dtype=torch.long), 5)
    assert sampling.sample_sequence(model, torch.tensor([1]), 0).shape == (0,)


@pytest.fixture(scope="module")
def char_run(tmp_path_factory):
    exp = lamina.load_experiment(
        "examples/char_lstm.toml",
        overrides=[
            "data.max_chars=6000",
            "data.seq_length=32",
            "train.epochs=1",
            "train.batch_size=32",
            "model.layers[1].units=16",
            "model.layers[1].num_layers=1",
            "model.layers[1].dropout=0.0",
        ],
    )
    return lamina.train(exp, out=tmp_path_factory.mktemp("runs"), progress="none")


@needs_shakespeare
def test_lamina_sample_prints_the_prime_and_the_sample(char_run):
    result = CliRunner().invoke(
        app, ["sample", str(char_run.dir), "--length", "40", "--temperature", "0.8", "--prime", "ROMEO:", "--seed", "1"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ROMEO:") and len(result.output.rstrip("\n")) >= 46
    again = CliRunner().invoke(
        app, ["sample", str(char_run.dir), "--length", "40", "--temperature", "0.8", "--prime", "ROMEO:", "--seed", "1"]
    )
    assert again.output == result.output  # the seed fixes the sample


@needs_shakespeare
def test_a_character_outside_the_vocabulary_is_refused(char_run):
    result = CliRunner().invoke(app, ["sample", str(char_run.dir), "--prime", "Café"])
    assert result.exit_code == 2
    assert "character 'é' (position 3 of 'Café') is not in the vocabulary of 65 characters" in result.output


def test_sampling_a_run_that_is_not_a_language_model(tmp_path):
    exp = lamina.parse_experiment(
        {
            "data": {"name": "digits"},
            "train": {"epochs": 1},
            "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 10}]},
        }
    )
    run = lamina.train(exp, out=tmp_path, progress="none")
    result = CliRunner().invoke(app, ["sample", str(run.dir)])
    assert result.exit_code == 2 and "not a character-level text dataset" in result.output
