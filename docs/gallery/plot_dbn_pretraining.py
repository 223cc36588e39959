"""
Deep belief net: greedy pretraining, then fine-tuning
=====================================================

Hinton, Osindero & Teh (2006) trained deep sigmoid networks that backpropagation alone could not: each hidden
layer is first trained as a restricted Boltzmann machine on the hidden activities of the layer below (greedy,
unsupervised, layer by layer), and the whole stack is then fine-tuned as an ordinary classifier. This example
pretrains a 784-256-256-256 sigmoid stack on 5,000 unlabelled MNIST digits, then fine-tunes it on only 1,000
labelled ones, and compares it with the same network from a random start. Look at the first epochs: the
pretrained network starts far above chance, while plain SGD from random weights sits on the plateau that
Glorot & Bengio (2010) traced to saturated sigmoid units; Adam escapes it, but later and lower.
"""

import copy

import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import MaxNLocator

import lamina
from lamina.generative import pretrain_layerwise

torch.manual_seed(0)

# %%
# Data and network
# ----------------
# Pixels in ``[0, 1]`` serve directly as the first RBM's visible probabilities. The labelled set is small on
# purpose: pretraining matters most when labels are scarce (Erhan et al., 2010).

train, _, test = lamina.data.load("mnist", train_subset=5000, flatten=True)
labelled = lamina.data.ArrayDataset(train.x[:1000], train.y[:1000])
test = lamina.data.ArrayDataset(test.x[:2000], test.y[:2000])

hidden = {"type": "dense", "units": 256, "activation": "sigmoid"}
random_net = lamina.build_model([hidden, hidden, hidden, {"type": "dense", "units": 10}], input_shape=(784,))
print(lamina.format_summary(random_net))

# %%
# Greedy layer-wise pretraining
# -----------------------------
# ``pretrain_layerwise`` trains one :class:`~lamina.generative.BernoulliRBM` per hidden sigmoid layer (CD-1, 3
# epochs each) and copies its weights and hidden biases into the layer; the output layer is left to
# fine-tuning. In an experiment file this is ``[pretrain] method = "rbm"``.

dbn_net = copy.deepcopy(random_net)  # the same starting weights, so only the pretraining differs
records = pretrain_layerwise(dbn_net, train.x, {"method": "rbm", "epochs": 3, "batch_size": 100}, seed=0)
for record in records:
    rbm, error = record.module, record.history[-1]["recon_error"]
    print(f"{record.layer}: {rbm.n_visible}-{rbm.n_hidden} RBM, reconstruction error {error:.2f}")

# %%
# Fine-tuning
# -----------
# Both networks are trained with the same SGD on the 1,000 labelled digits; a third run trains the random
# network with Adam, the modern default.

runs = {
    "RBM-pretrained, SGD": (dbn_net, {"type": "sgd", "lr": 0.1, "momentum": 0.9}),
    "random init, SGD": (copy.deepcopy(random_net), {"type": "sgd", "lr": 0.1, "momentum": 0.9}),
    "random init, Adam": (copy.deepcopy(random_net), {"type": "adam", "lr": 1e-3}),
}
fig, ax = plt.subplots(figsize=(6, 4))
for label, (model, optimizer) in runs.items():
    trainer = lamina.Trainer(model, loss="cross_entropy", optimizer=optimizer, epochs=15, batch_size=50, seed=0)
    history = trainer.fit(labelled, test)
    accuracy = [row["val_accuracy"] for row in history]
    print(f"{label:20s} test accuracy after 15 epochs: {accuracy[-1]:.3f}")
    ax.plot(range(1, len(accuracy) + 1), accuracy, "o-", markersize=3, label=label)
ax.axhline(0.1, color="gray", linestyle=":", label="chance")
ax.set_xlabel("fine-tuning epoch (1,000 labelled digits)")
ax.set_ylabel("test accuracy (2,000 digits)")
ax.set_ylim(0, 1)
ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set_title("784-256-256-256-10 sigmoid network on MNIST")
ax.legend(loc="center right")
ax.grid(alpha=0.3)
fig.tight_layout()
