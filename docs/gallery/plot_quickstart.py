"""
Quickstart: a digits MLP and its learning curve
===============================================

Train a small multilayer perceptron on scikit-learn's 8x8 digits with :class:`lamina.Trainer` for a few epochs and
plot the training and validation loss per epoch from the returned :class:`lamina.History`.
"""

import matplotlib.pyplot as plt
import torch

import lamina

torch.manual_seed(0)  # the initial weights

train, val, test = lamina.data.load("digits", validation=0.2, split_seed=0)
model = lamina.build_model(
    [{"type": "flatten"}, {"type": "dense", "units": 64, "activation": "relu"}, {"type": "dense", "units": 10}],
    input_shape=train.input_shape,
)
trainer = lamina.Trainer(model, loss="cross_entropy", optimizer={"type": "adam", "lr": 1e-2}, epochs=8, seed=0)
history = trainer.fit(train, val)
print(trainer.evaluate(test))

# %%
# The loss per epoch, on the training and the validation set.

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(history["loss"], label="training")
ax.plot(history["val_loss"], label="validation")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy")
ax.legend()
fig.tight_layout()
