"""
Vanishing gradients: sigmoid against ReLU
=========================================

Why deep networks were hard to train before 2006, measured: back-propagation multiplies the error signal by
each layer's weights and by the derivative of its activation, and a logistic sigmoid's derivative is at most
1/4, so in a deep sigmoid network the gradient shrinks geometrically on its way down to the first layers
(Hochreiter, 1991; Bengio, Simard & Frasconi, 1994; Glorot & Bengio, 2010). Rectified linear units with He
initialization (He et al., 2015) keep its size roughly constant. ``lamina.diagnostics.gradient_flow`` measures,
on one batch, each layer's ``||dL/dW||`` and the norm of the back-propagated delta ``||dL/dz||``. Look at the
sigmoid network's gradients falling by orders of magnitude from the output layer to the input layer, the tanh
network (derivative up to 1) in between, and the flat profile of the ReLU network.
"""

import matplotlib.pyplot as plt
import torch

import lamina
from lamina.diagnostics import gradient_flow

torch.manual_seed(0)

# %%
# Three 10-layer networks
# -----------------------
# Nine hidden layers of 256 units and a 10-way output, on one batch of 512 MNIST digits, measured at
# initialization: the sigmoid and tanh networks with torch's default uniform initialization (Glorot & Bengio's
# "standard" baseline), the ReLU network with He initialization.

train, _, _ = lamina.data.load("mnist", train_subset=512, flatten=True)
batch = (train.x, train.y)


def network(activation, init):
    hidden = [{"type": "dense", "units": 256, "activation": activation, "init": init}] * 9
    return lamina.build_model([*hidden, {"type": "dense", "units": 10}], input_shape=(784,))


flows = {}
for label, activation, init in [("sigmoid", "sigmoid", None), ("tanh", "tanh", None), ("ReLU, He init", "relu", "he")]:
    torch.manual_seed(0)
    flows[label] = gradient_flow(network(activation, init), batch, loss="cross_entropy")
print(flows["sigmoid"].table())

# %%
# Gradient norms by depth
# -----------------------
# Layer 0 is the input layer, layer 9 the output layer. The left panel is the weight gradient each layer's
# optimizer step would use; the right one the error signal arriving at each layer's output.

fig, (ax_w, ax_d) = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
for label, flow in flows.items():
    layers = range(len(flow.layers))
    ax_w.semilogy(layers, [layer.grad_norm for layer in flow.layers], "o-", label=label)
    ax_d.semilogy(layers, [layer.delta_norm for layer in flow.layers], "o-", label=label)
ax_w.set_ylabel("||dL/dW||")
ax_w.set_title("Weight gradients")
ax_d.set_ylabel("||dL/dz||")
ax_d.set_title("Back-propagated deltas")
for ax in (ax_w, ax_d):
    ax.set_xlabel("layer (0 = input side)")
    ax.set_xticks(list(layers))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
fig.suptitle("10-layer MLPs at initialization, one batch of 512 MNIST digits")
fig.tight_layout()
