"""
Deep-autoencoder codes in two dimensions
========================================

Hinton & Salakhutdinov (2006) showed that a deep autoencoder, pretrained layer by layer as a stack of RBMs and
then "unrolled" into an encoder and a mirror-image decoder fine-tuned on reconstruction, finds far better
low-dimensional codes than PCA; their Figure 3 plots 2-D codes of MNIST digits from both. This example repeats
the experiment on scikit-learn's 8x8 digits with a 64-128-64-2 encoder: Bernoulli RBMs pretrain the sigmoid
layers and an RBM with linear hidden units the 2-D code layer, as in the paper. Look at how the classes overlap
in PCA's two directions of largest variance and how the autoencoder's codes separate most of them into their
own arms.
"""

import matplotlib.pyplot as plt
import torch

import lamina
from lamina.generative import DeepAutoencoder

torch.manual_seed(0)

# %%
# Pretraining and unrolling
# -------------------------
# ``DeepAutoencoder.pretrained`` runs the greedy layer-wise driver over the whole encoder, code layer included,
# and copies each RBM's weights into the encoder and their transposes into the decoder (one method per layer
# here). The pixels are scaled to ``[0, 1]`` so the bottom RBM can treat them as probabilities and the
# reconstruction loss is cross-entropy.

train, _, test = lamina.data.load("digits", flatten=True)
rbm = {"method": "rbm", "epochs": 10, "batch_size": 32, "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.5}}
code = {"method": "linear_rbm", "epochs": 10, "batch_size": 32}  # its default step size: the paper's 0.001
autoencoder = DeepAutoencoder.pretrained(train.x, [64, 128, 64, 2], method=[rbm, rbm, code], seed=0)

# %%
# Fine-tuning
# -----------
# The unrolled network is trained end to end to reconstruct its input (its own ``training_loss``, so no loss is
# given to the trainer). The validation metric ``squared_error`` is the paper's "average squared reconstruction
# error per image".

trainer = lamina.Trainer(autoencoder, optimizer={"type": "adam", "lr": 2e-3}, epochs=40, batch_size=32, seed=0)
history = trainer.fit(train, test)
print(f"test squared reconstruction error per image: {history[-1]['val_squared_error']:.2f}")

# %%
# Codes against PCA
# -----------------
# PCA is fitted on the same training images (scikit-learn's, on the flattened pixels); both maps are applied to
# the test digits.

from sklearn.decomposition import PCA  # noqa: E402

pca = PCA(n_components=2, random_state=0).fit(train.x.numpy())
with torch.no_grad():
    codes = {
        "PCA": torch.from_numpy(pca.transform(test.x.numpy())),
        "deep autoencoder (64-128-64-2)": autoencoder.transform(test.x),
    }
pca_error = ((torch.from_numpy(pca.inverse_transform(codes["PCA"].numpy())) - test.x) ** 2).sum(1).mean()
print(f"PCA's squared reconstruction error per image with 2 components: {pca_error:.2f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained")
for ax, (name, points) in zip(axes, codes.items()):
    scatter = ax.scatter(points[:, 0], points[:, 1], c=test.y, cmap="tab10", vmin=-0.5, vmax=9.5, s=12)
    ax.set_title(name)
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
fig.colorbar(scatter, ax=axes, ticks=range(10), label="digit")
fig.suptitle("Two-dimensional codes of the 360 test digits")
