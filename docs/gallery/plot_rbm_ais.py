"""
AIS log-likelihood of an RBM
============================

An RBM's likelihood ``p(v) = exp(-F(v)) / Z`` needs the partition function ``Z``, a sum over every joint state,
so for years RBMs were compared by reconstruction error instead. Annealed importance sampling (Neal, 2001), as
Salakhutdinov & Murray (2008) applied it to RBMs, estimates ``log Z`` by moving a population of Gibbs chains
through a sequence of distributions from a simple base model to the RBM. Here the RBM has only 16 hidden units,
so lamina can also compute ``log Z`` exactly by enumerating the ``2^16`` hidden states; the figure compares the
two as the number of intermediate distributions grows. Look at the estimates rising to the exact value (AIS is
biased low for few distributions: ``E[log Z_AIS] <= log Z``) and the interval shrinking around it.
"""

import warnings

import matplotlib.pyplot as plt
import torch

import lamina
from lamina.generative import AISWarning, BernoulliRBM, ais_log_partition, exact_log_partition, log_likelihood

torch.manual_seed(0)

# %%
# A small RBM on binarized MNIST
# ------------------------------
# Sixteen hidden units keep the exact computation cheap: summing the visible units out analytically leaves
# ``log Z = logsumexp_h [c.h + sum_i softplus(b_i + h.W_i)]`` over ``2^16`` hidden vectors.

train, _, test = lamina.data.load("mnist", train_subset=5000, scale="binarize", flatten=True)
rbm = BernoulliRBM(784, 16, k=1)
rbm.init_visible_bias(train.x)
lamina.Trainer(rbm, optimizer={"type": "sgd", "lr": 0.05, "momentum": 0.9}, epochs=5, batch_size=50, seed=0).fit(train)

exact = float(exact_log_partition(rbm))
print(f"exact log Z = {exact:.3f}")

# %%
# AIS with more and more intermediate distributions
# -------------------------------------------------
# ``ais_log_partition`` runs 100 annealing chains from a base-rate model (independent pixels with the training
# data's frequencies, which starts the chains near the data) through ``K`` inverse temperatures ``beta`` on
# Salakhutdinov & Murray's schedule. The interval is theirs: ``log(Z_AIS -+ 3 standard errors)``. With few
# distributions a handful of runs carry all the weight (right: the effective sample size ``(sum w)^2 / sum w^2``)
# and lamina warns (``AISWarning``); the warning is silenced here because showing that regime is the point. A
# bar that runs off the bottom of the axes has a lower end of ``-inf``: the weights' spread exceeds their mean.

steps = [10, 30, 100, 300, 1000, 3000]
estimates = []
for k in steps:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AISWarning)
        estimate = ais_log_partition(rbm, n_runs=100, betas=k, data=train.x, generator=torch.Generator().manual_seed(k))
    estimates.append(estimate)
    print(f"K = {k:5d}: log Z = {estimate.log_z:8.3f}  effective runs {estimate.effective_runs:5.1f} of 100")

fig, (ax, ax_runs) = plt.subplots(1, 2, figsize=(9, 3.8), width_ratios=(3, 2))
log_z = [e.log_z for e in estimates]
below = [e.log_z - max(e.lower, e.log_z - 50) for e in estimates]  # a lower end of -inf runs off the axes
above = [e.upper - e.log_z for e in estimates]
ax.errorbar(steps, log_z, yerr=[below, above], fmt="o-", capsize=3, label="AIS, 100 runs (+-3 s.e.)")
ax.axhline(exact, color="black", linestyle="--", label=f"exact log Z = {exact:.2f}")
ax.set_xscale("log")
ax.set_ylim(exact - 15, exact + 5)
ax.set_xlabel("intermediate distributions K")
ax.set_ylabel("log Z (nats)")
ax.set_title("AIS estimate of log Z, 784-16 RBM")
ax.legend(loc="lower right")
ax.grid(alpha=0.3)
ax_runs.plot(steps, [e.effective_runs for e in estimates], "o-", color="tab:green")
ax_runs.set_xscale("log")
ax_runs.set_ylim(0, 100)
ax_runs.set_xlabel("intermediate distributions K")
ax_runs.set_ylabel("effective runs (of 100)")
ax_runs.set_title("Effective sample size")
ax_runs.grid(alpha=0.3)
fig.tight_layout()

# %%
# Test log-likelihood
# -------------------
# With ``log Z`` in hand, ``log p(v) = -F(v) - log Z`` for each binary test image. An error of ``d`` nats in
# ``log Z`` shifts every log-likelihood by ``-d``, so an AIS estimate that is too low makes the model look better
# than it is: the reason to check it against the exact value on a small model.

exact_ll = float(log_likelihood(rbm, test.x, exact).mean())
ais_ll = float(log_likelihood(rbm, test.x, estimates[-1].log_z).mean())
print(f"mean test log-likelihood: exact {exact_ll:.2f} nats, AIS (K = {steps[-1]}) {ais_ll:.2f} nats")
