"""
Elman network on the sunspot numbers
====================================

The yearly sunspot numbers are the classic benchmark of neural time-series prediction: Weigend, Huberman &
Rumelhart (1990) trained on 1700-1920 and reported the normalized mean squared error (NMSE, the error over the
variance of the series) on 1921-1955 and on the harder 1956-1979. An Elman network (Elman, 1990), a simple
recurrent network whose hidden units feed back as "context", reads the last 12 years one value at a time and
predicts the next. It is trained here with L-BFGS on full batches, and compared with a linear autoregression on
the same 12 lags (a least-squares fit). Look at the one-step predictions following the cycle's uneven peaks and
at the NMSE per period in the legend: the network beats the linear model on the training years and on
1921-1955, but not on 1956-1979 with its record peak of 1957, the overfitting that led Weigend et al. to weight
elimination (:class:`lamina.timeseries.WeightElimination`).
"""

import matplotlib.pyplot as plt
import numpy as np
import torch

import lamina
from lamina.timeseries import Elman, SeriesScaler, make_windows, nmse

torch.manual_seed(0)

# %%
# Data
# ----
# Windows of 12 years in the ``sequence`` layout ``(N, 12 steps, 1 feature)`` that a recurrent network reads;
# values scaled to ``[0, 1]`` with the training years' minimum and maximum.

years, values = lamina.data.read_sunspots()
scaler = SeriesScaler("minmax").fit(values[years <= 1920])
windows = make_windows(scaler.transform(values), lags=12, layout="sequence")
target_year = years[windows.time.numpy()]  # the year each window predicts
periods = {"1700-1920 (train)": target_year <= 1920, "1921-1955": (target_year > 1920) & (target_year <= 1955)}
periods["1956-1979"] = (target_year > 1955) & (target_year <= 1979)
train_rows = torch.from_numpy(periods["1700-1920 (train)"])
train = lamina.data.ArrayDataset(windows.inputs[train_rows], windows.targets[train_rows])

# %%
# Training
# --------
# Eight context units, back-propagation through the 12 steps of each window, an L2 penalty, and only ten
# L-BFGS passes: longer training fits the training years better and the later ones worse.

model = Elman(input_size=1, units=8, lags=12)
lbfgs = {"type": "lbfgs", "lr": 1.0, "max_iter": 20, "history_size": 20, "line_search_fn": "strong_wolfe"}
trainer = lamina.Trainer(model, loss="mse", optimizer=lbfgs, epochs=10, batch_size=len(train), l2=1e-3, seed=0)
trainer.fit(train)

# %%
# One-step predictions against a linear autoregression
# ----------------------------------------------------

predicted = {"Elman (8 context units)": scaler.inverse_transform(trainer.predict(windows.inputs).numpy().ravel())}
flat = windows.inputs[:, :, 0].numpy()  # (N, 12) lags for the linear model
design = np.column_stack([flat, np.ones(len(flat))])
coefficients, *_ = np.linalg.lstsq(
    design[periods["1700-1920 (train)"]], windows.targets.numpy()[train_rows], rcond=None
)
predicted["linear AR(12)"] = scaler.inverse_transform((design @ coefficients).ravel())

actual = values[windows.time.numpy()]
variance = float(np.var(values[years <= 1920]))  # Weigend et al. normalize by the training variance
fig, ax = plt.subplots(figsize=(10, 4))
ax.plot(years, values, color="black", linewidth=1, label="yearly sunspot number")
for (label, prediction), style in zip(predicted.items(), ("--", ":")):
    scores = ", ".join(
        f"{name.split(' ')[0]}: {nmse(prediction[rows], actual[rows], variance=variance):.3f}"
        for name, rows in periods.items()
    )
    ax.plot(target_year, prediction, linestyle=style, linewidth=1.3, label=f"{label}  (NMSE {scores})")
    print(f"{label}: NMSE {scores}")
ax.axvline(1920.5, color="gray", linestyle=":")
ax.axvline(1955.5, color="gray", linestyle=":")
ax.set_xlim(1850, 1990)
ax.set_xlabel("year (training data up to 1920)")
ax.set_ylabel("sunspot number")
ax.set_title("One-step predictions of the yearly sunspot numbers")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()
