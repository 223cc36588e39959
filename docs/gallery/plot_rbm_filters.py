"""
RBM filters and samples
=======================

A restricted Boltzmann machine with binary visible and hidden units, trained by contrastive divergence (CD-1;
Hinton, 2002) on 10,000 binarized MNIST digits, following the recipe of Hinton's practical guide (2010): small
random weights, visible biases set from the pixel frequencies, SGD with momentum. Each hidden unit's weights are
a *filter* over the 28x28 image: after training most are localized strokes and blobs, the parts that combine
into digits. Gibbs sampling from the trained model shows what it has learnt to generate: chains started from
test digits drift away from them but stay digit-like. Look for filters with a positive (white) stroke beside a
negative (black) one, and for chains that keep the writing style while changing the shape.
"""

import matplotlib.pyplot as plt
import torch

import lamina
from lamina.generative import BernoulliRBM, MomentumSchedule
from lamina.report import image_grid

torch.manual_seed(0)

# %%
# Data and training
# -----------------
# ``scale="binarize"`` thresholds the pixels at 0.5, since a Bernoulli RBM's likelihood is defined on binary
# data. The RBM defines its own ``training_loss`` (the CD-k surrogate whose gradient is the CD update), so the
# ordinary :class:`lamina.Trainer` trains it; the momentum rises from 0.5 to 0.9 after 5 epochs, as in the guide.
# The validation metrics are the RBM's own: mean-field reconstruction error and pseudo-log-likelihood.

train, _, test = lamina.data.load("mnist", train_subset=10000, scale="binarize", flatten=True)

rbm = BernoulliRBM(784, 144, k=1, weight_decay=2e-4)
rbm.init_visible_bias(train.x)  # b_i = log(p_i / (1 - p_i)), Hinton (2010), sec. 8
trainer = lamina.Trainer(
    rbm,
    optimizer={"type": "sgd", "lr": 0.05, "momentum": 0.5},
    epochs=10,
    batch_size=100,
    callbacks=[MomentumSchedule(0.9, 5)],
    seed=0,
)
history = trainer.fit(train, test)
print(f"reconstruction error after {len(history)} epochs: {history[-1]['val_recon_error']:.1f} pixels^2")

epochs = [row["epoch"] for row in history]
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(epochs, [row["val_recon_error"] for row in history], "o-")
ax.set_xlabel("epoch")
ax.set_ylabel("squared error per image")
ax.set_title("Test reconstruction error (CD-1)")
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# Filters
# -------
# Each row of ``rbm.weight`` (``(n_hidden, n_visible)``) reshaped to 28x28, each on its own symmetric gray
# scale: white is a positive weight (the unit likes ink there), black a negative one, mid-gray zero.
# ``lamina.report.image_grid`` lays images out as one mosaic (one ``imshow`` is much faster than 144 axes).


# sphinx_gallery_thumbnail_number = 2
filters = rbm.weight.detach().reshape(-1, 28, 28)
filters = filters / filters.abs().amax(dim=(1, 2), keepdim=True)  # each filter in [-1, 1]
fig, ax = plt.subplots(figsize=(6.5, 6.8))
ax.imshow(image_grid(filters, 12), cmap="gray", vmin=-1, vmax=1)
ax.set_title("The 144 hidden units' filters")
ax.axis("off")
fig.tight_layout()

# %%
# Gibbs chains
# ------------
# Ten chains start at test digits; each column is the visible mean ``p(v = 1 | h)`` after that many full Gibbs
# steps ``v -> h -> v``. A seeded ``torch.Generator`` makes the draws repeatable.

generator = torch.Generator().manual_seed(0)
checkpoints = [0, 1, 10, 100, 1000]
v = test.x[:10]
columns, done = [], 0
with torch.no_grad():
    for steps in checkpoints:
        v = rbm.gibbs(v, k=steps - done, generator=generator) if steps > done else v
        done = steps
        columns.append(v if steps == 0 else rbm.visible_mean(rbm.sample_hidden(v, generator)))

chains = torch.stack(columns, dim=1).reshape(-1, 28, 28)  # (10 chains * 5 columns, 28, 28), row by row
fig, ax = plt.subplots(figsize=(4, 7.5))
ax.imshow(image_grid(chains, len(checkpoints)), cmap="gray", vmin=0, vmax=1)
ax.set_xticks([14 + 29 * i for i in range(len(checkpoints))])
ax.set_xticklabels(["data"] + [f"{s} step{'s' * (s > 1)}" for s in checkpoints[1:]], fontsize=8)
ax.xaxis.tick_top()
ax.set_yticks([])
ax.tick_params(length=0)
for side in ax.spines.values():
    side.set_visible(False)
ax.set_title("Gibbs chains started at test digits", pad=22)
fig.tight_layout()
