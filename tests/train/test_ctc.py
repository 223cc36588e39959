"""CTC (issue 27): the loss against a brute-force sum over every alignment, the decoders against brute-force search,
the transcription metrics against a hand-written edit distance, and the loss's shape errors."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from lamina.errors import ShapeError
from lamina.losses.ctc import CTCLoss
from lamina.metrics.ctc_decoding import collapse, ctc_beam_search, ctc_greedy_decode
from lamina.metrics.transcription import CTCCharacterError, CTCSequenceError, edit_distance, greedy_labels
from lamina.registry import resolve


def brute_force_probability(log_probs: torch.Tensor, labelling: list[int], blank: int) -> float:
    """``p(l | x)``: the sum over all ``C^T`` paths that collapse to ``labelling`` of their probabilities."""
    steps, classes = log_probs.shape
    probs = log_probs.double().exp()
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        if collapse(path, blank) == labelling:
            total += math.prod(float(probs[t, c]) for t, c in enumerate(path))
    return total


def all_labellings(steps: int, classes: int, blank: int) -> dict[tuple[int, ...], float]:
    """Every labelling a ``steps``-step path can produce, mapped to nothing yet (filled by the caller)."""
    labels = [c for c in range(classes) if c != blank]
    return {
        tuple(l): 0.0
        for n in range(steps + 1)
        for l in itertools.product(labels, repeat=n)  # noqa: E741
    }


def best_labelling(log_probs: torch.Tensor, blank: int) -> tuple[list[int], float, float]:
    """The most probable labelling, its probability and the runner-up's, by summing every path's probability."""
    steps, classes = log_probs.shape
    probs = log_probs.double().exp()
    mass = all_labellings(steps, classes, blank)
    for path in itertools.product(range(classes), repeat=steps):
        mass[tuple(collapse(path, blank))] += math.prod(float(probs[t, c]) for t, c in enumerate(path))
    ranked = sorted(mass.items(), key=lambda kv: kv[1], reverse=True)
    return list(ranked[0][0]), ranked[0][1], ranked[1][1]


@pytest.mark.parametrize("blank", [0, -1])
def test_ctc_loss_equals_the_sum_over_all_alignments(blank):
    torch.manual_seed(0)
    steps, classes = 5, 3
    logits = torch.randn(3, steps, classes, dtype=torch.float64)
    blank_index = blank % classes
    others = [c for c in range(classes) if c != blank_index]
    targets = [[others[0], others[1]], [others[1], others[1]], [others[0]]]  # a repeat needs a blank between
    padded = torch.tensor([t + [-1] * (2 - len(t)) for t in targets])
    log_probs = torch.log_softmax(logits, -1)
    expected = [-math.log(brute_force_probability(log_probs[i], targets[i], blank_index)) for i in range(3)]
    losses = CTCLoss(blank=blank, reduction="sum")(logits, padded)
    assert losses.item() == pytest.approx(sum(expected), rel=1e-5)
    assert CTCLoss(blank=blank)(logits, padded).item() == pytest.approx(sum(expected) / 3, rel=1e-5)
    per_label = sum(e / len(t) for e, t in zip(expected, targets)) / 3
    assert CTCLoss(blank=blank, reduction="mean_per_label")(logits, padded).item() == pytest.approx(per_label, rel=1e-5)


def test_ctc_loss_input_lengths_ignore_the_steps_after_them():
    torch.manual_seed(1)
    logits = torch.randn(1, 6, 3, dtype=torch.float64)
    target = torch.tensor([[0, 1]])
    short = CTCLoss(reduction="sum")(logits, target, input_lengths=torch.tensor([4]))
    expected = -math.log(brute_force_probability(torch.log_softmax(logits[0, :4], -1), [0, 1], 2))
    assert short.item() == pytest.approx(expected, rel=1e-5)


def test_ctc_loss_shape_errors_say_what_is_expected():
    loss = CTCLoss()
    with pytest.raises(ShapeError, match=r"\(N, T, C\)"):
        loss(torch.randn(4, 11), torch.zeros(4, 5, dtype=torch.long))
    with pytest.raises(ShapeError, match=r"\(N, S\) label indices padded with -1"):
        loss(torch.randn(4, 7, 11), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ShapeError, match="other than the blank"):
        loss(torch.randn(2, 7, 11), torch.tensor([[1, 10], [2, 3]]))  # 10 is the blank (the last class)
    with pytest.raises(ShapeError, match="integer class indices"):
        loss(torch.randn(2, 7, 11), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="reduction"):
        CTCLoss(reduction="average")


def test_the_registered_loss_builds_from_a_table():
    loss = resolve("loss", {"type": "ctc", "blank": 0, "reduction": "sum"}).build()
    assert isinstance(loss, CTCLoss) and loss.blank == 0 and loss.reduction == "sum"


def test_greedy_decoding_collapses_the_best_path():
    blank = 3
    path = [0, 0, 3, 0, 1, 1, 3, 3, 2]
    logits = torch.nn.functional.one_hot(torch.tensor([path]), 4).double() * 5
    assert ctc_greedy_decode(logits, blank=-1) == [[0, 0, 1, 2]]
    labels, lengths = greedy_labels(logits, blank)
    assert lengths.tolist() == [4] and labels[0, :4].tolist() == [0, 0, 1, 2] and (labels[0, 4:] == -1).all()
    assert ctc_greedy_decode(logits, lengths=torch.tensor([3])) == [[0]]


def test_greedy_labels_of_a_batch_match_the_list_decoder():
    torch.manual_seed(2)
    logits = torch.randn(50, 9, 4)
    labels, lengths = greedy_labels(logits)
    for row, n, decoded in zip(labels, lengths, ctc_greedy_decode(logits)):
        assert row[:n].tolist() == decoded and (row[n:] == -1).all()


def test_beam_search_finds_the_brute_force_best_labelling():
    torch.manual_seed(3)
    checked = 0
    for _ in range(12):
        logits = torch.randn(5, 3, dtype=torch.float64) * 1.5
        best, p_best, p_second = best_labelling(torch.log_softmax(logits, -1), blank=2)
        if p_best - p_second < 1e-9:  # a tie: either answer is right
            continue
        wide = ctc_beam_search(logits[None], beam_width=100, prune=0)  # wider than the 63 possible prefixes
        assert wide == [best]
        checked += 1
    assert checked >= 10


def test_beam_search_can_beat_best_path_decoding():
    # best path is "blank blank" (0.6 x 0.6 = 0.36), but "a" collects 1 - 0.36 - ... more from its three paths
    probs = torch.tensor([[[0.4, 0.6], [0.4, 0.6]]], dtype=torch.float64)  # classes: a, blank
    assert ctc_greedy_decode(probs.log()) == [[]]
    assert ctc_beam_search(probs.log(), beam_width=4) == [[0]]  # p(a) = 0.4*0.4 + 0.4*0.6 + 0.6*0.4 = 0.64


def test_beam_width_one_equals_greedy_when_each_step_is_clear():
    torch.manual_seed(4)
    logits = torch.randn(40, 12, 5) * 6  # peaked steps, as a trained model gives
    assert ctc_beam_search(logits, beam_width=1) == ctc_greedy_decode(logits)


def test_beam_search_respects_lengths_and_refuses_width_zero():
    logits = torch.nn.functional.one_hot(torch.tensor([[0, 2, 1, 1]]), 3).double() * 9
    assert ctc_beam_search(logits, lengths=torch.tensor([2])) == [[0]]
    with pytest.raises(ValueError, match="beam_width"):
        ctc_beam_search(logits, beam_width=0)


def levenshtein(a: list[int], b: list[int]) -> int:
    """The textbook dynamic programme, one cell at a time."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return d[len(a)][len(b)]


def test_batched_edit_distance_equals_the_textbook_one():
    g = torch.Generator().manual_seed(5)
    n = 200
    hyp_len = torch.randint(0, 8, (n,), generator=g)
    ref_len = torch.randint(0, 6, (n,), generator=g)
    hyp = torch.randint(0, 3, (n, 8), generator=g)
    ref = torch.randint(0, 3, (n, 6), generator=g)
    hyp[torch.arange(8)[None] >= hyp_len[:, None]] = -1
    ref[torch.arange(6)[None] >= ref_len[:, None]] = -1
    got = edit_distance(hyp, hyp_len, ref, ref_len)
    want = [levenshtein(h[:a].tolist(), r[:b].tolist()) for h, a, r, b in zip(hyp, hyp_len, ref, ref_len)]
    assert got.tolist() == want


def test_sequence_and_character_error_metrics():
    blank = 3
    paths = [[0, 3, 1, 1, 2], [0, 0, 3, 3, 3], [1, 3, 1, 3, 2]]  # decode to [0, 1, 2], [0], [1, 1, 2]
    logits = torch.nn.functional.one_hot(torch.tensor(paths), 4).float()
    target = torch.tensor([[0, 1, 2], [0, 1, -1], [1, 2, 2]])
    seq, char = CTCSequenceError(), CTCCharacterError()
    seq.update(logits, target)
    char.update(logits, target)
    assert seq.compute() == pytest.approx(2 / 3)
    assert char.compute() == pytest.approx((0 + 1 + 1) / 8)  # one deletion, one substitution over 8 labels
    assert resolve("metric", {"type": "ctc_character_error", "blank": blank}).build().blank == blank


def test_the_trainer_learns_a_tiny_transcription_task_with_the_ctc_loss_and_metrics():
    import lamina
    from lamina.data import ArrayDataset

    torch.manual_seed(6)
    g = torch.Generator().manual_seed(6)
    labels = torch.randint(0, 3, (128, 3), generator=g)  # three labels of 0..2, each shown for 3 steps, blank between
    frames = torch.full((128, 12), 3)
    for k in range(3):
        frames[:, 4 * k : 4 * k + 3] = labels[:, k : k + 1]
    x = torch.nn.functional.one_hot(frames, 4).float() + 0.1 * torch.randn(128, 12, 4, generator=g)
    model = lamina.build_model(
        [
            {"type": "lstm", "units": 16, "return_sequences": True, "bidirectional": True},
            {"type": "time_distributed", "layer": {"type": "dense", "units": 4}},  # 3 labels + the blank
        ],
        input_shape=(12, 4),
    )
    optimizer = {"type": "adam", "lr": 0.03}
    trainer = lamina.Trainer(model, loss="ctc", optimizer=optimizer, epochs=8, batch_size=16, verbose=0)
    history = trainer.fit(ArrayDataset(x, labels), ArrayDataset(x[:32], labels[:32]))
    assert {"sequence_error", "character_error", "val_sequence_error"} <= set(history.metrics())
    assert history[-1]["loss"] < history[0]["loss"] / 4
    assert history[-1]["val_sequence_error"] <= 0.05  # the labels are visible: a working loss learns them
