"""The CUDA path (``pytest -m gpu`` on a machine with a GPU; skipped elsewhere): what the device code does
differently from the CPU's, checked against the CPU as the oracle."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lamina.data import ArrayDataset
from lamina.errors import TrainingDivergedError
from lamina.generative.rbm.contrastive_divergence import CDStatistics, cd_surrogate
from lamina.train import Trainer

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_cd_surrogate_gradient_on_the_gpu_equals_the_cpus_for_any_upstream_scale():
    """The CD backward scales by the upstream gradient without reading it on the host (no sync) on a device."""
    g = torch.Generator().manual_seed(0)
    n, m, nv, nh = 16, 16, 12, 7
    tensors = {"v_data": torch.rand(n, nv, generator=g).double(), "v_model": torch.rand(m, nv, generator=g).double()}
    weight = (torch.randn(nh, nv, generator=g) * 0.1).double()
    b, c = torch.zeros(nv).double(), (torch.randn(nh, generator=g) * 0.1).double()
    grads = {}
    for device in ("cpu", "cuda"):
        w_, b_, c_ = (t.detach().clone().to(device).requires_grad_() for t in (weight, b, c))
        vd, vm = tensors["v_data"].to(device), tensors["v_model"].to(device)
        ld, lm = vd @ w_.detach().t() + c_.detach(), vm @ w_.detach().t() + c_.detach()
        stats = CDStatistics(
            v_data=vd,
            h_data=torch.sigmoid(ld),
            logits_data=ld,
            v_model=vm,
            h_model=torch.sigmoid(lm),
            logits_model=lm,
            chain=None,
            summary=None,
        )
        (2.5 * cd_surrogate(stats, w_, b_, c_, weight_decay=1e-3)).backward()
        grads[device] = [t.grad.cpu() for t in (w_, b_, c_)]
    for cpu, gpu in zip(grads["cpu"], grads["cuda"]):
        torch.testing.assert_close(gpu, cpu)


def test_a_nan_loss_on_the_gpu_stops_within_the_check_window_with_finite_weights():
    torch.manual_seed(0)
    x, y = torch.randn(512, 5), torch.randint(0, 3, (512,))
    x[200] = float("nan")
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    trainer = Trainer(
        model, loss="cross_entropy", optimizer={"type": "sgd", "lr": 0.1}, epochs=2, batch_size=8, device="cuda", seed=0
    )
    assert trainer._defer_finite
    with pytest.raises(TrainingDivergedError, match="the loss became nan between steps"):
        trainer.fit(ArrayDataset(x, y))
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_each_precision_trains_on_the_gpu_and_resumes_from_its_state(precision):
    """plain (fp32, bf16) and scaled (fp16 GradScaler) steps on the device, with clipping; the state round-trips."""
    torch.manual_seed(0)
    x, y = torch.randn(256, 10), torch.randint(0, 2, (256,))
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2))
    trainer = Trainer(
        model,
        loss="cross_entropy",
        optimizer={"type": "adam", "lr": 1e-2},
        epochs=3,
        batch_size=32,
        device="cuda",
        seed=0,
        precision=precision,
        grad_clip=1.0,
    )
    history = trainer.fit(ArrayDataset(x, y))
    assert history[-1]["loss"] < history[0]["loss"]
    state = trainer.state_dict()
    again = Trainer(
        nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2)),
        loss="cross_entropy",
        optimizer={"type": "adam", "lr": 1e-2},
        epochs=4,
        batch_size=32,
        device="cuda",
        seed=0,
        precision=precision,
        grad_clip=1.0,
    )
    again.load_state_dict(state)
    assert again.fit(ArrayDataset(x, y))[-1]["epoch"] == 4


@pytest.mark.parametrize("bad_at", [5, 60])  # inside the first check window, and in the last batches of the epoch
def test_rbm_data_out_of_range_on_the_gpu_is_refused_by_the_deferred_check(bad_at):
    from lamina.errors import DataError
    from lamina.generative import BernoulliRBM

    x = (torch.rand(64 * 16, 20) > 0.5).float()
    x[bad_at * 16 : bad_at * 16 + 16, 3] = 2.0  # one batch (unshuffled order below) out of [0, 1]
    rbm = BernoulliRBM(20, 8)
    trainer = Trainer(rbm, optimizer={"type": "sgd", "lr": 0.05}, epochs=1, batch_size=16, device="cuda", seed=0)
    with pytest.raises(DataError, match=r"values in \[0, 2\]"):
        trainer.fit(ArrayDataset(x))
        rbm.eval()  # leaving training mode reads what the last window gathered
