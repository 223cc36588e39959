"""
NARX closed-loop forecast of Mackey-Glass
=========================================

The Mackey-Glass delay differential equation ``dx/dt = 0.2 x(t - 17) / (1 + x(t - 17)^10) - 0.1 x(t)`` is
chaotic for a delay of 17 and became the standard benchmark of the early time-series networks (Lapedes &
Farber, 1987). A NARX network (Leontaritis & Billings, 1985; Narendra & Parthasarathy, 1990) predicts the next
value from the last 18 values; it is trained *open-loop* on measured lags (teacher forcing, plain regression)
and then run *closed-loop*, each prediction fed back into its own delay line, to forecast 500 steps beyond the
data. Look at the closed-loop forecast staying on the series for all 500 steps, and at its error (lower panel)
running about ten times that of the one-step predictions made from true lags, as fed-back errors accumulate;
chaos amplifies them, so a longer horizon or a less accurate model eventually drifts out of phase.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch

import lamina
from lamina.timeseries import NARX, SeriesScaler, forecast, make_windows, nrmse

torch.manual_seed(0)

# %%
# The series and its lag windows
# ------------------------------
# 1,500 samples one time unit apart (integrated by fourth-order Runge-Kutta); the first 1,000 train, the last
# 500 are what the network must forecast. The scaler is fitted on the training part only.

series = lamina.data.mackey_glass(1500, tau=17.0)
history, future = series[:1000], series[1000:]
scaler = SeriesScaler("standard").fit(history)
windows = make_windows(scaler.transform(history), lags=18)  # inputs (982, 18), targets (982, 1)
train = lamina.data.ArrayDataset(windows.inputs, windows.targets)

# %%
# Open-loop training
# ------------------
# An 18-20-1 tanh network. A problem this small trains best full-batch with a quasi-Newton method: L-BFGS with a
# strong-Wolfe line search (the trainer hands it the closure it needs).

model = NARX(output_lags=18, hidden=(20,))
lbfgs = {"type": "lbfgs", "lr": 1.0, "max_iter": 20, "history_size": 20, "line_search_fn": "strong_wolfe"}
lamina.Trainer(model, loss="mse", optimizer=lbfgs, epochs=30, batch_size=len(train), seed=0).fit(train)

# %%
# Closed-loop and open-loop forecasts
# -----------------------------------
# ``forecast`` cuts the next window from the history, predicts, appends and repeats; ``closed_loop=False``
# appends the measured value instead (``actual``), giving one-step-ahead predictions. Both are returned in the
# series' own units through the scaler.

closed = forecast(model, history, steps=500, scaler=scaler)
one_step = forecast(model, history, steps=500, closed_loop=False, actual=future, scaler=scaler)
for horizon in (100, 250, 500):
    print(f"NRMSE over the first {horizon} steps: closed-loop {nrmse(closed[:horizon], future[:horizon]):.3f}")
print(f"NRMSE of the one-step predictions: {nrmse(one_step, future):.4f}")

t = np.arange(len(series))
fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True, height_ratios=(3, 2))
top.plot(t[800:], series[800:], color="black", linewidth=1, label="Mackey-Glass (tau = 17)")
top.plot(t[1000:], closed, color="tab:red", linewidth=1.2, linestyle="--", label="closed-loop forecast")
top.axvline(1000, color="gray", linestyle=":")
top.set_ylabel("x(t)")
top.set_title("NARX (18 lags, 20 tanh units) forecasting 500 steps past the data")
top.legend(loc="upper left", fontsize=8)
bottom.semilogy(t[1000:], np.abs(closed - future), color="tab:red", linewidth=1, label="closed-loop")
bottom.semilogy(t[1000:], np.abs(one_step - future), color="tab:blue", linewidth=1, label="one-step (open-loop)")
bottom.axvline(1000, color="gray", linestyle=":")
bottom.set_xlabel("time step (end of the training data at 1000)")
bottom.set_ylabel("absolute error")
bottom.legend(loc="lower right", fontsize=8)
fig.tight_layout()
