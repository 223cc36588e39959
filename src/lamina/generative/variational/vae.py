"""The variational autoencoder (Kingma & Welling, 2014): a Gaussian encoder ``q(z | x)``, a standard normal prior and
a Bernoulli or Gaussian decoder ``p(x | z)``, each an MLP, trained on the ELBO with the reparameterisation trick;
its log-likelihood is estimated by importance weighting (Burda, Grosse & Salakhutdinov, 2016). The math is in
:mod:`lamina.generative.variational.functions`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, NamedTuple

import torch
from torch import nn

from lamina.config.component import Bounds, Choices, spec_base, validated
from lamina.errors import ShapeError
from lamina.generative.autoencoders.autoencoder import check_unit_interval
from lamina.generative.variational.functions import (
    bernoulli_log_likelihood,
    gaussian_kl,
    gaussian_log_density,
    importance_weighted_bound,
    reparameterize,
)
from lamina.nn.spec import LayerSpec, Shape
from lamina.registry import register

__all__ = ["ELBO", "VAE", "VAESpec"]

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "softplus": nn.Softplus, "sigmoid": nn.Sigmoid}
_IWAE_ROWS = 1 << 18  # decoder rows per chunk of importance samples: ~0.5 GB of activations for 500 hidden units


class ELBO(NamedTuple):
    """The evidence lower bound of each example and its two terms, each ``(N,)``, in nats:
    ``elbo = reconstruction - kl``."""

    elbo: torch.Tensor
    reconstruction: torch.Tensor  # log p(x | z), z one draw from q(z | x)
    kl: torch.Tensor  # KL(q(z | x) || p(z)), analytic


def _mlp(sizes: list[int], activation: str, factory: dict[str, Any]) -> nn.Sequential:
    """Linear layers between ``sizes`` with ``activation`` between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, **factory))
        if i < len(sizes) - 2:
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """A variational autoencoder with MLP encoder and decoder.

    ``q(z | x) = N(mu(x), diag exp(log_var(x)))``, ``p(z) = N(0, I)``; the decoder gives the logits of independent
    Bernoulli pixels (``likelihood="bernoulli"``, binary data) or the mean and log-variance of a diagonal Gaussian
    (``"gaussian"``, real data). Trained by maximising the ELBO (:meth:`training_loss` is its negative mean), one
    reparameterised draw of ``z`` per example per step (Kingma & Welling, 2014, "AEVB" with ``L = 1``).

    Args:
        n_visible: inputs per example.
        n_latent: latent dimensions ``d``.
        hidden: the hidden layer widths of the encoder (the decoder mirrors them): one int for one layer (Kingma &
            Welling used one of 500 on MNIST), a list for several.
        activation: the hidden units: ``tanh`` (the paper's), ``relu``, ``softplus`` or ``sigmoid``.
        likelihood: ``bernoulli`` (inputs in [0, 1]) or ``gaussian``.
        device, dtype: of the parameters.

    Shape: ``forward``/``reconstruct``: ``(N, n_visible) -> (N, n_visible)`` (the decoder's mean at the encoder's
    mean); ``transform``: ``(N, n_visible) -> (N, n_latent)``. Inputs of any shape with ``n_visible`` values per
    example (``(N, 1, 28, 28)``) are flattened.

    Example:
        >>> vae = VAE(784, 20, hidden=[500, 500])
        >>> lamina.Trainer(vae, optimizer="adam", epochs=10).fit(train)   # minimises vae.training_loss
        >>> vae.log_likelihood(test.x, k=5000)                              # (N,) IWAE estimates, nats

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
        Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016.
    """

    objective_name = "negative_elbo"  # the trainer logs the training loss under this name too

    @validated
    def __init__(
        self,
        n_visible: Annotated[int, Bounds(ge=1)],
        n_latent: Annotated[int, Bounds(ge=1)] = 20,
        *,
        hidden: Annotated[int | list[int], Bounds(ge=1)] = 500,
        activation: Annotated[str, Choices(*_ACTIVATIONS)] = "tanh",
        likelihood: Annotated[str, Choices("bernoulli", "gaussian")] = "bernoulli",
        device: Any = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        self.n_visible, self.n_latent, self.hidden = n_visible, n_latent, widths
        self.activation, self.likelihood = activation, likelihood
        self._data_checked = False  # training_loss checks the first batch's range (see there)
        factory = {"device": device, "dtype": dtype}
        self.encoder = _mlp([n_visible, *widths, 2 * n_latent], activation, factory)  # -> (mean, log_var)
        out = n_visible if likelihood == "bernoulli" else 2 * n_visible  # logits, or (mean, log_var)
        self.decoder = _mlp([n_latent, *reversed(widths), out], activation, factory)

    # -- the maps -----------------------------------------------------------------------------------------------

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(len(x), -1) if x.dim() != 2 else x
        if x.shape[1] != self.n_visible:
            raise ShapeError(f"VAE expects {self.n_visible} inputs per example, got {x.shape[1]}")
        return x

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, log_var)`` of ``q(z | x)``, each ``(N, n_latent)``."""
        mean, log_var = self.encoder(self._flat(x)).chunk(2, dim=-1)
        return mean, log_var

    def log_likelihood_given(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``log p(x | z)`` summed over the inputs: ``x`` ``(N, n_visible)``, ``z`` ``(..., N, n_latent)`` ->
        ``(..., N)``."""
        out = self.decoder(z)
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(out, x)
        mean, log_var = out.chunk(2, dim=-1)
        return gaussian_log_density(x, mean, log_var)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's mean ``E[x | z]``: pixel probabilities (Bernoulli) or the Gaussian's mean;
        ``(..., n_latent) -> (..., n_visible)``."""
        out = self.decoder(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out[..., : self.n_visible]

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The code: the encoder's mean ``mu(x)``, ``(N, n_latent)``."""
        return self.encode(x)[0]

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``E[x | z = mu(x)]``: the decoder's mean at the encoder's mean, ``(N, n_visible)``."""
        return self.decode(self.transform(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction (:meth:`reconstruct`): deterministic, so evaluation and export see a plain network."""
        return self.reconstruct(x)

    @torch.no_grad()
    def sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws ``z ~ N(0, I)`` decoded to their means ``E[x | z]``, ``(n, n_visible)``."""
        p = next(self.parameters())
        z = torch.randn(n, self.n_latent, generator=generator, device=p.device, dtype=p.dtype)
        return self.decode(z)

    # -- the bounds ---------------------------------------------------------------------------------------------

    def _checked(self, x: torch.Tensor) -> torch.Tensor:
        x = self._flat(x)
        if self.likelihood == "bernoulli":
            check_unit_interval(x, "a VAE with a Bernoulli decoder")
        return x

    def elbo(self, x: torch.Tensor, *, generator: torch.Generator | None = None, check: bool = True) -> ELBO:
        """The ELBO of each example with one reparameterised draw ``z ~ q(z | x)`` and the analytic KL
        (Kingma & Welling, 2014, eq. 10); differentiable in the parameters. ``check``: refuse Bernoulli data
        outside [0, 1] (a read of the batch's range, which waits for an accelerator)."""
        x = self._checked(x) if check else self._flat(x)
        mean, log_var = self.encode(x)
        z = reparameterize(mean, log_var, generator=generator)
        reconstruction = self.log_likelihood_given(x, z)
        kl = gaussian_kl(mean, log_var)
        return ELBO(reconstruction - kl, reconstruction, kl)

    def log_weights(
        self, x: torch.Tensor, k: int, *, generator: torch.Generator | None = None, check: bool = True
    ) -> torch.Tensor:
        """``log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x)`` for ``k`` draws ``z_i ~ q(z | x)``:
        ``(N, n_visible) -> (k, N)``. ``check``: as :meth:`elbo`'s."""
        x = self._checked(x) if check else self._flat(x)
        mean, log_var = self.encode(x)
        z = reparameterize(mean, log_var, samples=k, generator=generator)  # (k, N, d)
        log_prior = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))
        return self.log_likelihood_given(x, z) + log_prior - gaussian_log_density(z, mean, log_var)

    def log_likelihood(
        self,
        x: torch.Tensor,
        k: int = 5000,
        *,
        batch_size: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The importance-weighted estimate of ``log p(x)`` with ``k`` samples (Burda et al., 2016), ``(N,)``:
        ``logsumexp_i log w_i - log k``, a lower bound in expectation that tightens as ``k`` grows (``k = 1``: the
        ELBO). The ``k`` samples are drawn in chunks whose log-sum-exps are combined, so memory stays bounded.

        Args:
            x: ``(N, n_visible)`` (the model's device).
            k: importance samples per example (5000 is the usual test estimate).
            batch_size: examples per pass (default: all of ``x``).
            generator: the source of the samples.
        """
        if k < 1:
            raise ValueError(f"`k` must be >= 1, got {k!r}")
        x = self._checked(x)
        batch_size = batch_size or len(x)
        out = []
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                xb = x[start : start + batch_size]
                chunk = max(1, _IWAE_ROWS // len(xb))
                total = torch.full((len(xb),), -math.inf, device=xb.device, dtype=torch.float64)
                for done in range(0, k, chunk):
                    lw = self.log_weights(xb, min(chunk, k - done), generator=generator, check=False)
                    total = torch.logaddexp(total, torch.logsumexp(lw.double(), dim=0))
                out.append(total - math.log(k))
        return torch.cat(out)

    def importance_weighted_bound(
        self, x: torch.Tensor, k: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``L_k(x)`` with gradient (Burda et al., 2016, eq. 8): the IWAE training objective, ``(N,)``."""
        return importance_weighted_bound(self.log_weights(x, k, generator=generator), dim=0)

    # -- training -----------------------------------------------------------------------------------------------

    def training_loss(self, batch: Any) -> torch.Tensor:
        """The negative mean ELBO of ``batch = (x, y)`` (``y`` is ignored), in nats per example. The data's range is
        checked on the first batch only, so that a step on a GPU never waits to read it back."""
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        check, self._data_checked = not self._data_checked, True
        return -self.elbo(x, check=check).elbo.mean()

    @torch.no_grad()
    def validation_metrics(self, batch: Any) -> dict[str, torch.Tensor]:
        """``loss`` (the negative ELBO), ``reconstruction`` (``-log p(x | z)``) and ``kl``, means over the batch."""
        bound = self.elbo(batch[0] if isinstance(batch, (tuple, list)) else batch)
        return {"loss": -bound.elbo.mean(), "reconstruction": -bound.reconstruction.mean(), "kl": bound.kl.mean()}

    def extra_repr(self) -> str:
        return (
            f"n_visible={self.n_visible}, n_latent={self.n_latent}, hidden={self.hidden}, "
            f"activation={self.activation!r}, likelihood={self.likelihood!r}"
        )


@register("layer", "vae", aliases=("variational_autoencoder",))
class VAESpec(spec_base(VAE, LayerSpec, exclude=("n_visible", "device", "dtype"))):  # type: ignore[misc]
    """A variational autoencoder (Kingma & Welling, 2014) as the last layer of a stack: the model then trains on
    the VAE's negative ELBO (``[train] loss`` is not used), and its output is the reconstruction ``(n_visible,)``,
    ``n_visible`` the number of values of the input. The options are :class:`VAE`'s keyword arguments, with its
    defaults and bounds::

        [model]
        layers = [{ type = "flatten" }, { type = "vae", n_latent = 20, hidden = [500, 500] }]
    """

    def output_shape(self, input_shape: Shape) -> Shape:
        """The reconstruction: one value per input value, flat."""
        return (math.prod(input_shape),)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`VAE` with ``n_visible`` the number of values of ``input_shape``."""
        return VAE(math.prod(input_shape), **self.options())
