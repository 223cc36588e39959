"""
Extended Kalman filter against Adam
===================================

Singhal & Wu (1989) trained a network by treating its weights as the state of a dynamical system observed
through the network's own output, and estimating them with the extended Kalman filter: each example updates
the weights *and* an error covariance over them, a second-order method that needs few passes over the data.
Puskorius & Feldkamp (1994) made it affordable by decoupling the covariance into blocks (here one per neuron).
This example trains a 4-10-1 tanh network to predict the Mackey-Glass series one step ahead (the Lapedes &
Farber setting: four lags, six time units apart) with the global filter, the neuron-decoupled filter, and Adam,
and plots the test error after each pass over the 1,000 training windows. Look at the filters' error after a
single pass against the number of passes Adam needs to reach it, and at the cost per pass on the right: with
only 61 weights the global covariance is tiny, so decoupling buys nothing here (it pays off for wider networks,
see ``benchmarks/ekf.py``).
"""

import matplotlib.pyplot as plt
import torch

import lamina
from lamina.timeseries import TDNN, SeriesScaler, make_windows

torch.manual_seed(0)

# %%
# Data
# ----
# The series sampled every 6 time units; a window ``x(t-18), x(t-12), x(t-6), x(t)`` predicts ``x(t+6)``. The
# first 1,000 windows train, the next 500 test; the scaler sees only the training part.

series = lamina.data.mackey_glass(1504, tau=17.0, sample_every=6.0)
scaler = SeriesScaler("standard").fit(series[:1004])
windows = make_windows(scaler.transform(series), lags=4)  # 1,500 windows of 4 lags
train = lamina.data.ArrayDataset(windows.inputs[:1000], windows.targets[:1000])
test = lamina.data.ArrayDataset(windows.inputs[1000:], windows.targets[1000:])

# %%
# Three optimizers, one network
# -----------------------------
# The filters update after every example (``batch_size=1``), as the classic algorithm does. ``R`` (the
# measurement noise, here annealed from 0.01 to 1e-4 for the global filter), ``Q`` (the process noise) and
# ``P(0)`` are the settings ``benchmarks/ekf.py`` chose on a validation split; Adam gets a well-tuned learning
# rate and mini-batches of 16. The metric ``nrmse`` is the RMSE over the targets' standard deviation.

ekf = {"type": "ekf", "decoupling": "global", "initial_covariance": 10.0, "measurement_noise": 0.01}
ekf |= {"measurement_noise_final": 1e-4, "anneal_steps": 800, "process_noise": 1e-5}
dekf = {"type": "ekf", "decoupling": "neuron", "initial_covariance": 100.0, "measurement_noise": 0.01}
dekf |= {"process_noise": 1e-6}
runs = {
    "global EKF": (ekf, 2, 1),
    "neuron-decoupled EKF": (dekf, 2, 1),
    "Adam (lr 0.01, batch 16)": ({"type": "adam", "lr": 1e-2}, 40, 16),
}
histories = {}
for label, (optimizer, epochs, batch_size) in runs.items():
    torch.manual_seed(0)  # the same initial weights for every optimizer
    model = TDNN(lags=4, hidden=(10,))
    trainer = lamina.Trainer(
        model, loss="mse", optimizer=optimizer, metrics=["nrmse"], epochs=epochs, batch_size=batch_size, seed=0
    )
    histories[label] = trainer.fit(train, test)
    print(f"{label:25s} test NRMSE after pass 1: {histories[label][0]['val_nrmse']:.4f}, ", end="")
    print(f"after pass {epochs}: {histories[label][-1]['val_nrmse']:.4f}")

fig, (ax, ax_time) = plt.subplots(1, 2, figsize=(10, 4))
for label, history in histories.items():
    passes = [row["epoch"] for row in history]
    ax.loglog(passes, [row["val_nrmse"] for row in history], "o-", markersize=4, label=label)
    ax_time.bar(label.split(" (")[0].replace(" EKF", "\nEKF"), sum(row["time"] for row in history) / len(history))
ax.set_xlabel("passes over the 1,000 training windows")
ax.set_ylabel("test NRMSE")
ax.set_title("Mackey-Glass one-step prediction, 4-10-1 tanh")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
ax_time.set_ylabel("seconds per pass (this machine)")
ax_time.set_title("Cost of a pass")
fig.tight_layout()
