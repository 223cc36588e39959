"""
LeNet-5 feature maps
====================

LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998) reads a digit through two stages of convolution and
subsampling: six 5x5 filters (C1) turn the image into six feature maps, pooling halves them (S2), and sixteen
5x5 filters over those maps (C3) make sixteen smaller ones, which the fully connected layers classify. This
example trains the network of ``examples/lenet5.toml`` (ReLU and max pooling in place of the scaled tanh and
trainable subsampling) for two epochs on 6,000 MNIST digits and shows what one test digit looks like at each
stage. Look at the C1 kernels as small edge and stroke detectors, at each C1 map lighting up where the digit has
strokes of that orientation, and at the C3 maps, coarser and more abstract combinations of them. (The frame
around some C1 maps is the convolution's zero padding meeting the standardized background, which is negative.)
"""

import matplotlib.pyplot as plt
import torch

import lamina
from lamina.diagnostics import first_layer_filters

torch.manual_seed(0)

# %%
# The network and a short training
# --------------------------------
# The layers are those of ``examples/lenet5.toml``; the digits are standardized (zero mean, unit variance over
# the training pixels), as LeCun et al. scaled theirs.

layers = [
    {"type": "conv2d", "filters": 6, "kernel_size": 5, "padding": 2, "activation": "relu", "init": "he"},  # C1
    {"type": "max_pool2d", "kernel_size": 2},  # S2: 6@14x14
    {"type": "conv2d", "filters": 16, "kernel_size": 5, "activation": "relu", "init": "he"},  # C3: 16@10x10
    {"type": "max_pool2d", "kernel_size": 2},  # S4: 16@5x5
    {"type": "conv2d", "filters": 120, "kernel_size": 5, "activation": "relu", "init": "he"},  # C5: 120@1x1
    {"type": "flatten"},
    {"type": "dense", "units": 84, "activation": "relu", "init": "he"},  # F6
    {"type": "dense", "units": 10},
]
train, _, test = lamina.data.load("mnist", train_subset=6000, scale="standard")
model = lamina.build_model(layers, input_shape=(1, 28, 28))
trainer = lamina.Trainer(model, loss="cross_entropy", optimizer={"type": "adam", "lr": 2e-3}, epochs=2, batch_size=64)
trainer.fit(train)
print(f"test accuracy after 2 epochs on 6,000 digits: {trainer.evaluate(test)['accuracy']:.3f}")

# %%
# Kernels and feature maps of one digit
# -------------------------------------
# The model is an ``nn.Sequential`` of the eight layers, so running them one at a time keeps every
# intermediate output: the first is C1's six rectified maps, the third C3's sixteen. ``first_layer_filters``
# returns C1's kernels as images.

digit = test.x[:1]  # (1, 1, 28, 28)
model.eval()
outputs, x = [], digit
with torch.no_grad():
    for layer in model:
        x = layer(x)
        outputs.append(x[0])
c1, c3 = outputs[0], outputs[2]  # (6, 28, 28), (16, 10, 10)
predicted = int(outputs[-1].argmax())
kernels = first_layer_filters(model).images[:, 0]  # (6, 5, 5)

fig = plt.figure(figsize=(10, 5.4), layout="constrained")
left, right = fig.subfigures(1, 2, width_ratios=(1, 3.2))
ax = left.subplots()
ax.imshow(digit[0, 0], cmap="gray")
ax.set_title(f"input (a {int(test.y[0])}; predicted {predicted})", fontsize=10)
ax.axis("off")
top, bottom = right.subfigures(2, 1, height_ratios=(1.45, 1))
axes = top.subplots(2, 6)
for i in range(6):
    limit = float(kernels[i].abs().max())
    axes[0, i].imshow(kernels[i], cmap="gray", vmin=-limit, vmax=limit)
    axes[1, i].imshow(c1[i], cmap="gray")
    axes[0, i].set_title(f"kernel {i}", fontsize=8)
for a in axes.flat:
    a.axis("off")
top.suptitle("C1: six 5x5 kernels (white positive) and their rectified 28x28 maps", fontsize=10)
axes = bottom.subplots(2, 8)
for i, a in enumerate(axes.flat):
    a.imshow(c3[i], cmap="gray")
    a.axis("off")
bottom.suptitle("C3: sixteen 10x10 maps (each sums 5x5 kernels over the six pooled C1 maps)", fontsize=10)
