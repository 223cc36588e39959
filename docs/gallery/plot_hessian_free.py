"""
Hessian-free optimization against first-order methods
=====================================================

Martens (2010) revived second-order training for deep networks with "Hessian-free" optimization: each step
minimizes a damped quadratic model of the loss by conjugate gradient, using only Gauss-Newton matrix-vector
products (two passes through the network each), never the matrix itself, with the damping adapted by how well
the model predicted the actual decrease (Levenberg-Marquardt). A step costs tens of gradient evaluations, but a
few dozen steps on the full batch do what takes first-order methods many more. This example trains a
64-32-32-32-32-10 tanh network on scikit-learn's digits with Hessian-free on the full batch, full-batch SGD with
momentum, and mini-batch Adam, and plots the training loss and the test accuracy against training time. Look at
Hessian-free's few, long steps reaching a low loss, and at where each method is after the same number of seconds.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch

import lamina

torch.manual_seed(0)

# %%
# Network, data and optimizers
# ----------------------------
# The Hessian-free settings are those of ``examples/digits_hessian_free.toml``: the curvature (Gauss-Newton
# products) on a quarter of the batch, Martens' empirical-Fisher diagonal as CG's preconditioner, at most 50 CG
# iterations per step. Each optimizer starts from the same weights.

train, _, test = lamina.data.load("digits", flatten=True)  # 1,437 training and 360 test digits, 64 pixels
tanh = {"type": "dense", "units": 32, "activation": "tanh"}
layers = [tanh, tanh, tanh, tanh, {"type": "dense", "units": 10}]

hessian_free = {"type": "hessian_free", "damping": 0.1, "cg_max_iter": 50, "curvature_batch": 0.25}
hessian_free["preconditioner"] = "empirical_fisher"
runs = {  # label: (optimizer, epochs, batch size); a batch of 2048 is the whole training set
    "Hessian-free (full batch)": (hessian_free, 20, 2048),
    "SGD + momentum (full batch)": ({"type": "sgd", "lr": 0.1, "momentum": 0.9}, 120, 2048),
    "Adam (batch 32)": ({"type": "adam", "lr": 3e-3}, 25, 32),
}
histories = {}
for label, (optimizer, epochs, batch_size) in runs.items():
    torch.manual_seed(0)
    model = lamina.build_model(layers, input_shape=(64,))
    trainer = lamina.Trainer(
        model, loss="cross_entropy", optimizer=optimizer, epochs=epochs, batch_size=batch_size, seed=0
    )
    histories[label] = trainer.fit(train, test)
    final = histories[label][-1]
    print(
        f"{label:28s} {epochs:3d} epochs: training loss {final['loss']:.3f}, test accuracy {final['val_accuracy']:.3f}"
    )

# %%
# Loss and accuracy against time
# ------------------------------
# Time is the training time the trainer logged for each epoch (evaluation excluded), summed; it depends on the
# machine that built this page, the shape of the curves much less.

fig, (ax_loss, ax_accuracy) = plt.subplots(1, 2, figsize=(10, 4))
for label, history in histories.items():
    seconds = np.cumsum([row["time"] for row in history])
    ax_loss.semilogy(seconds, [row["loss"] for row in history], "o-", markersize=3, label=label)
    ax_accuracy.plot(seconds, [row["val_accuracy"] for row in history], "o-", markersize=3, label=label)
ax_loss.set_ylabel("training loss (cross-entropy)")
ax_accuracy.set_ylabel("test accuracy")
ax_accuracy.set_ylim(0, 1)
for ax in (ax_loss, ax_accuracy):
    ax.set_xlabel("training time (s)")
    ax.grid(True, which="both", alpha=0.3)
ax_loss.legend(fontsize=8)
fig.suptitle("A 4-hidden-layer tanh network on the digits")
fig.tight_layout()
