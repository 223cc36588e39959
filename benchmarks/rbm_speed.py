"""CD-1 training speed of a 784x500 Bernoulli RBM on MNIST, batch 128: lamina against scikit-learn's BernoulliRBM
(float32 data, its fastest), learnergy's RBM and a naive PyTorch CD-1 (autograd through the free energy), all in
this process, plus the matmul-only bound: the five matrix products of one CD-1 step timed alone with torch.matmul.

    flock /tmp/lamina-cpu.lock env PYTHONPATH=src python -m benchmarks.rbm_speed

Prints samples/s of each (best of ``--repeats`` interleaved rounds of one epoch each), the ratios, and lamina's rate
as a fraction of the bound (target >= 0.75).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

import lamina
from benchmarks.common import write_result
from lamina.data import ArrayDataset
from lamina.generative import BernoulliRBM
from lamina.generative.rbm import fused_kernels
from lamina.train import Trainer

N_VISIBLE, N_HIDDEN, BATCH = 784, 500, 128


def mnist(n: int) -> torch.Tensor:
    train = lamina.data.load("mnist", scale="binarize", flatten=True).train
    return train.x[:n].contiguous()


def timed(run, n_samples: int) -> float:
    """Samples/s of one call of ``run()`` processing ``n_samples``."""
    start = time.perf_counter()
    run()
    return n_samples / (time.perf_counter() - start)


def matmul_bound(seconds: float) -> float:
    """Samples/s if a CD-1 step cost only its five matrix products (v W^T, h W, v' W^T, h^T v, h'^T v')."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(N_HIDDEN, N_VISIBLE, generator=g) * 0.01
    v0, v1 = torch.rand(BATCH, N_VISIBLE, generator=g), torch.rand(BATCH, N_VISIBLE, generator=g)
    h0, h1 = torch.rand(BATCH, N_HIDDEN, generator=g), torch.rand(BATCH, N_HIDDEN, generator=g)
    wt = w.t()

    def step():
        torch.matmul(v0, wt)
        torch.matmul(h0, w)
        torch.matmul(v1, wt)
        torch.matmul(h0.t(), v0)
        torch.matmul(h1.t(), v1)

    for _ in range(20):
        step()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        calls += 1
    return calls * BATCH / (time.perf_counter() - start)


def lamina_cd1(x: torch.Tensor, lr: float) -> None:
    rbm = BernoulliRBM(N_VISIBLE, N_HIDDEN, k=1)
    Trainer(rbm, optimizer={"type": "sgd", "lr": lr}, epochs=1, batch_size=BATCH, device="cpu", seed=0).fit(
        ArrayDataset(x)
    )


def lamina_unfused_cd1(x: torch.Tensor, lr: float) -> None:
    """lamina with torch's element-wise operations instead of its fused CPU kernels (LAMINA_FUSED_KERNELS=0)."""
    with fused_kernels.disabled():
        lamina_cd1(x, lr)


def naive_torch_cd1(x: torch.Tensor, lr: float) -> None:
    """What a user writes by hand: autograd through F(v) - F(v') with a detached negative sample."""
    w = torch.nn.Parameter(torch.randn(N_HIDDEN, N_VISIBLE) * 0.01)
    b, c = torch.nn.Parameter(torch.zeros(N_VISIBLE)), torch.nn.Parameter(torch.zeros(N_HIDDEN))
    opt = torch.optim.SGD([w, b, c], lr=lr)

    def free_energy(v):
        return -(v @ b) - torch.nn.functional.softplus(v @ w.t() + c).sum(-1)

    perm = torch.randperm(len(x))
    for i in range(0, len(x), BATCH):
        v = x[perm[i : i + BATCH]]
        with torch.no_grad():
            h = torch.bernoulli(torch.sigmoid(v @ w.t() + c))
            v_neg = torch.sigmoid(h @ w + b)
        loss = free_energy(v).mean() - free_energy(v_neg).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def sklearn_cd1(x: np.ndarray, lr: float) -> None:
    from sklearn.neural_network import BernoulliRBM as SkRBM

    SkRBM(n_components=N_HIDDEN, learning_rate=lr, batch_size=BATCH, n_iter=1, random_state=0).fit(x)


def learnergy_cd1(dataset, lr: float) -> None:
    from learnergy.models.bernoulli import RBM as LeRBM

    model = LeRBM(n_visible=N_VISIBLE, n_hidden=N_HIDDEN, steps=1, learning_rate=lr, momentum=0.0, use_gpu=False)
    model.fit(dataset, batch_size=BATCH, epochs=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60000, help="training examples per timed epoch")
    parser.add_argument("--repeats", type=int, default=5, help="rounds; each library's best round is reported")
    parser.add_argument("--bound-seconds", type=float, default=5.0)
    args = parser.parse_args()
    torch.manual_seed(0)
    lr = 0.05
    x = mnist(args.n)
    x_np = x.numpy().astype(np.float32)
    dataset = torch.utils.data.TensorDataset(x, torch.zeros(len(x)))
    print(
        f"MNIST binarized, {len(x)} examples; torch threads: {torch.get_num_threads()}; fused kernels: "
        f"{fused_kernels.available() or fused_kernels.unavailable_reason()}"
    )

    # Rounds of every contender in turn; each one's best round is reported (as timeit's minimum time), so that a
    # burst of load from another process on a shared machine does not favour whoever ran in the quiet moments.
    contenders = {
        "bound": lambda: matmul_bound(args.bound_seconds),
        "lamina": lambda: timed(lambda: lamina_cd1(x, lr), len(x)),
        "lamina_unfused": lambda: timed(lambda: lamina_unfused_cd1(x, lr), len(x)),
        "naive_torch": lambda: timed(lambda: naive_torch_cd1(x, lr), len(x)),
        "sklearn": lambda: timed(lambda: sklearn_cd1(x_np, lr), len(x)),
        "learnergy": lambda: timed(lambda: learnergy_cd1(dataset, lr), len(x)),
    }
    labels = {
        "bound": "matmul-only bound (5 products per step)",
        "lamina": "lamina BernoulliRBM + Trainer",
        "lamina_unfused": "lamina without its fused CPU kernels",
        "naive_torch": "naive PyTorch CD-1 (autograd)",
        "sklearn": "scikit-learn BernoulliRBM (float32)",
        "learnergy": "learnergy RBM",
    }
    rounds: dict[str, list[float]] = {name: [] for name in contenders}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # one untimed pass of each on a tenth of the data first: thread pools, allocator caches and lazy imports
        # warm up there, not inside whoever happens to run first
        lamina_cd1(x[: len(x) // 10], lr), lamina_unfused_cd1(x[: len(x) // 10], lr)
        naive_torch_cd1(x[: len(x) // 10], lr)
        sklearn_cd1(x_np[: len(x) // 10], lr), learnergy_cd1(torch.utils.data.Subset(dataset, range(len(x) // 10)), lr)
        for r in range(args.repeats):
            for name, measure in contenders.items():
                rounds[name].append(measure())
            print(f"round {r + 1}: " + ", ".join(f"{n} {v[-1]:,.0f}" for n, v in rounds.items()))
    rates = {name: max(values) for name, values in rounds.items()}
    for name, label in labels.items():
        print(f"{label:42s} {rates[name]:>9,.0f} samples/s (best of {args.repeats})")

    ratios = {
        "lamina_fraction_of_bound": rates["lamina"] / rates["bound"],
        "lamina_unfused_fraction_of_bound": rates["lamina_unfused"] / rates["bound"],
        "fused_over_unfused": rates["lamina"] / rates["lamina_unfused"],
        "lamina_over_sklearn": rates["lamina"] / rates["sklearn"],
        "lamina_over_learnergy": rates["lamina"] / rates["learnergy"],
        "naive_torch_over_sklearn": rates["naive_torch"] / rates["sklearn"],
    }
    for name, value in ratios.items():
        print(f"{name:28s} {value:.2f}")
    print(
        f"target: lamina >= 0.75 of the bound -> {'met' if ratios['lamina_fraction_of_bound'] >= 0.75 else 'NOT met'}"
    )
    path = write_result(
        "rbm_speed",
        {
            "samples_per_second": rates,
            "rounds": rounds,
            "ratios": ratios,
            "fused_kernels": fused_kernels.available(),
            "target_fraction_of_bound": 0.75,
            "n_examples": len(x),
            "batch_size": BATCH,
            "shape": [N_VISIBLE, N_HIDDEN],
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
