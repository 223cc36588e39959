"""
Hopfield memory: recall and capacity
====================================

A Hopfield network (Hopfield, 1982) stores bipolar patterns in a symmetric weight matrix and recalls one from a
corrupted probe by letting each unit take the sign of its input until nothing changes. With Hebb's rule
``W = (1/N) sum_mu xi^mu xi^mu^T`` the memory holds about ``0.138 N`` random patterns (Amit, Gutfreund &
Sompolinsky, 1985), and far fewer correlated ones such as images, whose shared pixels add up to spurious
attractors; the pseudo-inverse (projection) rule of Personnaz, Guyon & Dreyfus (1986) removes those
correlations, and with a "desaturated" diagonal (Gorodnichy & Reznik, 1997) it still retrieves noisy probes at
loads near ``0.7 N``. The first figure recalls ten MNIST digits from probes with a quarter of their pixels
flipped; the second measures the recall rate against the load ``M / N`` for random patterns. Look at the
Hebbian memory's recalls all falling into one spurious blend of digits, and at where each capacity curve falls.
"""

import matplotlib.pyplot as plt
import torch

import lamina
from lamina.memory import Hopfield, capacity_curve, flip_bits

torch.manual_seed(0)

# %%
# Recalling digits
# ----------------
# One training image of each digit, binarized, is a pattern of ``N = 784`` units (``{0, 1}`` images are mapped to
# ``-1/+1``). Each probe is its pattern with 25% of the pixels flipped; ``recall`` runs asynchronous updates in a
# seeded random order to a fixed point.

train, _, _ = lamina.data.load("mnist", train_subset=1000, scale="binarize", flatten=True)
first = [int((train.y == digit).nonzero()[0]) for digit in range(10)]
patterns = train.x[first] * 2 - 1  # (10, 784) bipolar
probes = flip_bits(patterns, 0.25, generator=torch.Generator().manual_seed(0))

rows = {"stored": patterns, "probe (25% flipped)": probes}
for rule in ("hebbian", "pseudoinverse"):
    memory = Hopfield(784, rule).store(patterns)
    result = memory.recall(probes, seed=0)
    wrong = (result.states != patterns).float().mean(1)
    print(
        f"{rule:13s}: pixels wrong after recall {wrong.mean():.1%} (mean), {int(result.converged.sum())}/10 converged"
    )
    rows[f"{rule} recall"] = result.states

fig, axes = plt.subplots(len(rows), 10, figsize=(8, 4))
for r, (label, images) in enumerate(rows.items()):
    for c in range(10):
        axes[r, c].imshow(images[c].reshape(28, 28), cmap="gray", vmin=-1, vmax=1)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
fig.suptitle("Ten MNIST digits in a 784-unit Hopfield memory")
fig.tight_layout()

# %%
# Capacity
# --------
# ``capacity_curve`` stores ``M = load * N`` random patterns in ``N = 400`` units (10 independent memories per
# load), probes each with 5% of its bits flipped, and counts a probe as retrieved when the final state matches
# at least 97.5% of its pattern (the theory's retrieval state just below ``0.138 N`` already has about 1.6% of
# its bits wrong). The dotted lines are the published capacities.

hebbian = capacity_curve(
    "hebbian", 400, [0.02 * i for i in range(1, 16)], noise=0.05, trials=10, probes=20, threshold=0.975, seed=0
)
desaturated = capacity_curve(
    "pseudoinverse",
    400,
    [0.05 * i for i in range(1, 18)],
    noise=0.05,
    trials=10,
    probes=20,
    threshold=0.975,
    desaturation=0.15,
    seed=0,
)

fig, ax = plt.subplots(figsize=(7, 4))
for curve, color in ((hebbian, "tab:blue"), (desaturated, "tab:orange")):
    ax.plot(curve.loads, curve.recall, "o-", markersize=4, color=color, label=f"{curve.label} (measured)")
    ax.axvline(curve.theory, color=color, linestyle=":", label=f"{curve.label}: theory {curve.theory:g} N")
    print(f"{curve.label}: 95% recall up to M/N = {curve.capacity(0.95):.3f} (theory {curve.theory:g})")
ax.set_xlabel("load M / N (patterns per unit)")
ax.set_ylabel("fraction of probes retrieved")
ax.set_title("Recall of random patterns, N = 400, 5% of bits flipped")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()
