"""Bucketing (issue 27): every example once per epoch, batches of similar lengths cut to their longest sequence,
the same batches from the same generator, and the ``[data] bucketing`` option reaching the trainer's loader."""

from __future__ import annotations

import pytest
import torch

from lamina.data import ArrayDataset, BatchLoader, BucketLoader, make_loader
from lamina.data.bucketing import BucketingSpec, bucket_batches
from lamina.errors import ConfigError
from lamina.registry import resolve


def sequences(n: int = 203, longest: int = 40, seed: int = 0) -> tuple[ArrayDataset, torch.Tensor]:
    """``n`` zero-padded sequences of random lengths in 1..longest, each labelled with its index."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, longest + 1, (n,), generator=g)
    x = torch.rand(n, longest, 2, generator=g) + 0.1  # never exactly the padding value
    x[torch.arange(longest)[None] >= lengths[:, None]] = 0.0
    return ArrayDataset(x, torch.arange(n)), lengths


def test_every_example_is_in_exactly_one_batch_per_epoch():
    data, lengths = sequences()
    loader = BucketLoader(data, 16, shuffle=True, generator=torch.Generator().manual_seed(1))
    for _ in range(3):
        seen = torch.cat([y for _, y in loader])
        assert sorted(seen.tolist()) == list(range(len(data)))
    assert len(loader) == len(list(loader)) == -(-len(data) // 16)


def test_batches_hold_similar_lengths_and_are_cut_to_the_longest():
    data, lengths = sequences()
    bucketed = BucketLoader(data, 16, shuffle=True, generator=torch.Generator().manual_seed(2))
    plain = BatchLoader(data, 16, shuffle=True, generator=torch.Generator().manual_seed(2))
    spread = lambda y: int(lengths[y].max() - lengths[y].min())  # noqa: E731
    bucket_spread = sum(spread(y) for _, y in bucketed)
    plain_spread = sum(spread(y) for _, y in plain)
    assert bucket_spread * 4 < plain_spread  # pools of 50 batches: sorted neighbours, not random draws
    for x, y in bucketed:
        assert x.shape[1] == int(lengths[y].max())  # trimmed to the batch's longest sequence
        torch.testing.assert_close(x, data.x[y, : x.shape[1]])


def test_the_same_generator_gives_the_same_batches_and_order_changes_between_epochs():
    data, _ = sequences()
    first = [y.tolist() for _, y in BucketLoader(data, 8, shuffle=True, generator=torch.Generator().manual_seed(3))]
    again = [y.tolist() for _, y in BucketLoader(data, 8, shuffle=True, generator=torch.Generator().manual_seed(3))]
    assert first == again
    loader = BucketLoader(data, 8, shuffle=True, generator=torch.Generator().manual_seed(3))
    epochs = [[y.tolist() for _, y in loader] for _ in range(2)]
    assert epochs[0] != epochs[1]


def test_without_shuffling_the_batches_go_shortest_first_and_drop_last_drops_the_short_batch():
    lengths = torch.tensor([5, 1, 3, 2, 4])
    batches = bucket_batches(lengths, 2, shuffle=False)
    assert [b.tolist() for b in batches] == [[1, 3], [2, 4], [0]]
    assert [b.tolist() for b in bucket_batches(lengths, 2, shuffle=False, drop_last=True)] == [[1, 3], [2, 4]]


def test_given_lengths_and_no_trim():
    data, lengths = sequences(n=30)
    loader = BucketLoader(data, 4, lengths=lengths, bucketing=BucketingSpec(trim=False))
    assert all(x.shape[1] == data.x.shape[1] for x, _ in loader)
    with pytest.raises(ConfigError, match="bucketing batches sequences"):
        BucketLoader(ArrayDataset(torch.zeros(5), torch.zeros(5)), 2)


def test_the_data_option_reaches_the_trainers_loader():
    spec = resolve("dataset", {"name": "digits", "bucketing": {"pad_value": 0.0, "pool": 4}})
    train = spec.load().train
    assert train.bucketing == BucketingSpec(pad_value=0.0, pool=4)
    assert train.subset(slice(0, 10)).bucketing is train.bucketing  # carried through subsets and moves
    assert isinstance(make_loader(train, 32, shuffle=True), BucketLoader)
    assert isinstance(make_loader(spec.load().test, 32), BatchLoader)  # evaluation: plain batches
    assert not isinstance(make_loader(spec.load().test, 32), BucketLoader)


def test_a_bucketed_run_resumed_inside_an_epoch_ends_with_the_same_weights(tmp_path):
    import lamina
    from lamina.data.waveforms import WaveformSet
    from lamina.train import Callback, Trainer
    from lamina.train.callbacks import Checkpointer
    from lamina.train.checkpoint import load_checkpoint

    (x, y, _), _ = WaveformSet(train_size=96, test_size=1, max_length=30).arrays()
    data = ArrayDataset(torch.from_numpy(x), torch.from_numpy(y), bucketing=BucketingSpec(pool=2))

    class Interrupt(Callback):
        def on_batch_end(self, trainer, step, loss):
            if step == 8:  # inside the second epoch (6 batches an epoch)
                raise KeyboardInterrupt

    def trainer(callbacks):
        torch.manual_seed(0)
        table = [{"type": "masked", "layer": {"type": "gru", "units": 8}}, {"type": "dense", "units": 4}]
        model = lamina.build_model(table, (30, 1))
        return Trainer(model, optimizer="adam", epochs=2, batch_size=16, seed=3, callbacks=callbacks, verbose=0)

    full = trainer([])
    full.fit(data)
    first = trainer([Checkpointer(tmp_path, every_steps=1, monitor=None), Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        first.fit(data)
    second = trainer([])
    second.load_state_dict(load_checkpoint(tmp_path / "last.pt")["state"])
    second.fit(data)
    for name, value in full.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[name]), name
