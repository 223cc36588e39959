"""
Denoising-autoencoder filters
=============================

A denoising autoencoder (Vincent, Larochelle, Bengio & Manzagol, 2008) is trained to reconstruct the clean input
from a corrupted copy: here a fraction of the pixels is set to zero ("masking noise") and the network must fill
them in from the rest. Without corruption an autoencoder with as many hidden units as this one can learn a
near-identity map whose filters look like noise; with corruption each unit has to capture dependencies between
pixels, and the filters become the smoother stroke and blob detectors of the paper's Figure 3. The two panels
are the first 49 filters of the same 784-100 autoencoder trained without corruption and with 50% masking. Look
for the high-frequency, speckled filters without noise against the smoother, more local ones with it (the
contrast sharpens with longer training than this example's six epochs), and at the reconstructions of
half-masked digits below, which the network trained with noise fills in more cleanly.
"""

import matplotlib.pyplot as plt
import torch

import lamina
from lamina.generative import DenoisingAutoencoder
from lamina.report import image_grid

torch.manual_seed(0)

# %%
# Training with and without corruption
# -------------------------------------
# Tied weights (the decoder is ``W^T``), sigmoid units and a cross-entropy reconstruction loss, as in the paper.
# The autoencoder defines ``training_loss`` (corrupt, encode, decode, compare with the *clean* input), so
# :class:`lamina.Trainer` trains it as it is; only training corrupts, ``transform`` and ``reconstruct`` see the
# input as given. The weights start small (``N(0, 0.01^2)``, as for an RBM) rather than at the autoencoder's
# default Glorot range: weights on pixels that are never inked are then left near zero, so the filters show only
# what the data taught.

train, _, test = lamina.data.load("mnist", train_subset=10000, flatten=True)
held_out = lamina.data.ArrayDataset(test.x[:2000])
levels = [0.0, 0.5]
models = {}
for level in levels:
    torch.manual_seed(0)  # the same initial weights for every level
    dae = DenoisingAutoencoder(784, 100, corruption="masking", level=level, loss="cross_entropy")
    torch.nn.init.normal_(dae.weight, std=0.01)
    trainer = lamina.Trainer(dae, optimizer={"type": "adam", "lr": 5e-3}, epochs=6, batch_size=100, seed=0)
    trainer.fit(train)
    models[level] = dae
    print(f"masking {level:.0%}: clean test reconstruction loss {trainer.evaluate(held_out)['loss']:.1f}")

# %%
# Filters
# -------
# Each hidden unit's weight vector as a 28x28 image, on its own symmetric gray scale (white positive, black
# negative). ``lamina.report.image_grid`` lays them out as one mosaic.


fig, axes = plt.subplots(1, len(levels), figsize=(8, 4.4))
for ax, level in zip(axes, levels):
    filters = models[level].weight.detach()[:49].reshape(-1, 28, 28)
    filters = filters / filters.abs().amax(dim=(1, 2), keepdim=True)
    ax.imshow(image_grid(filters, 7), cmap="gray", vmin=-1, vmax=1)
    ax.set_title("no corruption" if level == 0 else f"{level:.0%} of pixels masked")
    ax.axis("off")
fig.suptitle("Filters of a 784-100 (denoising) autoencoder")
fig.tight_layout()

# %%
# Filling in the missing pixels
# -----------------------------
# Half of each test digit's pixels are masked (with lamina's own :func:`~lamina.generative.corrupt`, the
# function the training used), then each autoencoder reconstructs it. The one trained without noise has never
# had to infer a missing pixel.

from lamina.generative import corrupt  # noqa: E402

digits = test.x[:6]
noisy = corrupt(digits, "masking", 0.5, generator=torch.Generator().manual_seed(0))
rows = [("clean", digits), ("50% masked", noisy)]
with torch.no_grad():
    rows += [(f"trained at {level:.0%}", models[level].reconstruct(noisy)) for level in levels]

fig, axes = plt.subplots(len(rows), len(digits), figsize=(6.5, 4.8))
for r, (label, images) in enumerate(rows):
    for c, image in enumerate(images):
        axes[r, c].imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
fig.suptitle("Reconstructions of half-masked test digits")
fig.tight_layout()
