"""``lamina.sklearn.AutoencoderTransformer``: lamina's autoencoders (plain, denoising, sparse, contractive; one
layer, or a stack pretrained greedily and fine-tuned end to end) as a scikit-learn transformer."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from lamina.errors import did_you_mean
from lamina.generative import (
    Autoencoder,
    ContractiveAutoencoder,
    DeepAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    pretrain_layerwise,
)
from lamina.sklearn.params import check_param, is_int, is_number, resolve_batch_size, store_params
from lamina.sklearn.transformer import LaminaTransformer, _float_dtype, _torch_dtype

__all__ = ["AutoencoderTransformer"]

# kind -> (the one-layer module, the greedy pretraining method of each layer of a stack)
KINDS = {
    "plain": (Autoencoder, "autoencoder"),
    "denoising": (DenoisingAutoencoder, "denoising_autoencoder"),
    "sparse": (SparseAutoencoder, "sparse_autoencoder"),
    "contractive": (ContractiveAutoencoder, "contractive_autoencoder"),
}
ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
LOSSES = ("auto", "cross_entropy", "mse")
_BATCH = 8192  # rows per forward pass when scoring


def _choice(name: str, value: Any, options: Any) -> None:
    if value not in options:
        raise ValueError(
            f"`{name}` must be one of {', '.join(map(repr, options))}, got {value!r};"
            f"{did_you_mean(value, options) if isinstance(value, str) else ''}".rstrip(";")
        )


class AutoencoderTransformer(ClassNamePrefixFeaturesOutMixin, LaminaTransformer):
    """Autoencoder feature extractor: ``transform(X)`` is the code ``h = f(W x + c)``, ``inverse_transform(h)``
    the reconstruction ``g(W' h + b)``, learned by minimising the reconstruction loss of ``X`` (Bourlard & Kamp,
    1988; Bengio et al., 2007), with the regulariser ``kind`` names:

    - ``"plain"``: the loss alone;
    - ``"denoising"``: reconstruct ``x`` from a corrupted copy (Vincent et al., 2008): ``corruption`` at
      ``corruption_level``;
    - ``"sparse"``: plus ``sparsity_weight`` times a sparsity penalty, KL towards the mean activation
      ``sparsity_target`` or L1 of the code (Ng, 2011; Ranzato et al., 2007);
    - ``"contractive"``: plus ``contraction`` times ``||dh/dx||_F^2`` (Rifai et al., 2011).

    With one hidden layer the network is that autoencoder (:class:`lamina.generative.Autoencoder` and its
    subclasses). With several (``hidden_layer_sizes=(256, 64)``) it is a stacked autoencoder: ``fit`` first
    trains one autoencoder of ``kind`` per layer, greedily, each on the codes of the one below
    (``pretrain_epochs`` each), then unrolls them into a :class:`lamina.generative.DeepAutoencoder` (encoder and
    mirror-image decoder) and fine-tunes the whole of it on the plain reconstruction loss (Hinton & Salakhutdinov,
    2006; Vincent et al., 2010); the code is the last layer's.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default=(64,)
        Units of each encoder layer; the last is the code (``n_components`` of the output).
    kind : {"plain", "denoising", "sparse", "contractive"}, default="plain"
        The regulariser (of each greedy layer, for a stack).
    activation : {"sigmoid", "tanh", "relu", "identity"}, default="sigmoid"
        The encoder's nonlinearity ``f``.
    loss : {"auto", "cross_entropy", "mse"}, default="auto"
        Reconstruction loss, summed over the features: cross-entropy with a sigmoid decoder (data in [0, 1]) or
        squared error with a linear decoder; ``"auto"`` picks cross-entropy when ``X`` lies in [0, 1] at the first
        fit, squared error otherwise (recorded as ``reconstruction_loss_``).
    tied : bool, default=True
        Decode with ``W^T`` (one layer, and each greedy layer of a stack; a stack's fine-tuned decoder is free).
    corruption : {"masking", "salt_and_pepper", "gaussian"}, default="masking"
        ``kind="denoising"``: inputs set to 0, set to 0 or 1, or with Gaussian noise added.
    corruption_level : float, default=0.25
        The fraction of inputs corrupted, or the Gaussian noise's standard deviation.
    sparsity : {"kl", "l1"}, default="kl"
        ``kind="sparse"``: the penalty (KL needs sigmoid codes).
    sparsity_target : float, default=0.05
        The KL penalty's target mean activation.
    sparsity_weight : float, default=0.1
        The sparsity penalty's weight.
    contraction : float, default=0.1
        ``kind="contractive"``: the Jacobian penalty's weight.
    pretrain_epochs : int, default=10
        Epochs of each greedy layer of a stack (0: none; a single layer is never pretrained).
    learning_rate : float, default=1e-3
        Adam's step (the summed loss makes plain SGD's step depend on the number of features).
    batch_size : int or "auto", default="auto"
        Examples per step; ``"auto"`` is ``min(200, n_samples)``.
    max_iter, tol, n_iter_no_change : int, float, int, default=200, 1e-4, 10
        Epochs, and scikit-learn's stopping rule on the training loss.
    warm_start : bool, default=False
        ``fit`` continues from the current weights instead of starting over.
    random_state, verbose, device
        As for :class:`MLPClassifier`.

    Attributes
    ----------
    module_ : Autoencoder or DeepAutoencoder
        The trained network.
    reconstruction_loss_ : str
        ``"cross_entropy"`` or ``"mse"``.
    pretrained_layers_ : list of dict
        For a stack: each greedy layer's shape and final loss.
    loss_curve_, n_iter_, t_, n_features_in_, feature_names_in_
        As for :class:`MLPClassifier`.

    Notes
    -----
    :meth:`score_samples` is minus each row's reconstruction loss of the clean input, penalty excluded (so models
    with different regularisers compare on the same footing; large values flag rows unlike the training data);
    :meth:`score` is its mean, which ``GridSearchCV`` maximises.

    References
    ----------
    .. [1] Bourlard & Kamp (1988), "Auto-association by multilayer perceptrons and singular value decomposition".
    .. [2] Vincent, Larochelle, Bengio & Manzagol (2008), "Extracting and composing robust features with
       denoising autoencoders", ICML; Vincent et al. (2010), "Stacked denoising autoencoders", JMLR.
    .. [3] Rifai, Vincent, Muller, Glorot & Bengio (2011), "Contractive auto-encoders", ICML.
    .. [4] Hinton & Salakhutdinov (2006), "Reducing the dimensionality of data with neural networks", Science.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from lamina.sklearn import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer((32,), kind="denoising", max_iter=20, random_state=0).fit(X / 16)
    >>> ae.transform(X[:2] / 16).shape, ae.inverse_transform(ae.transform(X[:2] / 16)).shape
    ((2, 32), (2, 64))
    """

    def __init__(
        self,
        hidden_layer_sizes: Any = (64,),
        kind: str = "plain",
        *,
        activation: str = "sigmoid",
        loss: str = "auto",
        tied: bool = True,
        corruption: str = "masking",
        corruption_level: float = 0.25,
        sparsity: str = "kl",
        sparsity_target: float = 0.05,
        sparsity_weight: float = 0.1,
        contraction: float = 0.1,
        pretrain_epochs: int = 10,
        learning_rate: float = 1e-3,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        warm_start: bool = False,
        random_state: Any = None,
        verbose: bool = False,
        device: str = "cpu",
    ) -> None:
        store_params(self, locals())

    def _sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") and not isinstance(sizes, str) else [sizes]
        check_param(
            len(sizes) > 0 and all(is_int(h) and h > 0 for h in sizes),
            "hidden_layer_sizes",
            "a non-empty sequence of positive integers",
            self.hidden_layer_sizes,
        )
        return [int(h) for h in sizes]

    def _check_params(self) -> None:
        """Validate the parameters; each error names the parameter and the value it got (the module's own
        checks then cover the per-kind options)."""
        self._sizes()
        _choice("kind", self.kind, tuple(KINDS))
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("loss", self.loss, LOSSES)
        for name in ("max_iter", "n_iter_no_change"):
            check_param(
                is_int(getattr(self, name)) and getattr(self, name) >= 1,
                name,
                "a positive integer",
                getattr(self, name),
            )
        check_param(
            is_int(self.pretrain_epochs) and self.pretrain_epochs >= 0,
            "pretrain_epochs",
            "an integer >= 0",
            self.pretrain_epochs,
        )
        for name, low in (
            ("learning_rate", 0.0),
            ("tol", None),
            ("corruption_level", None),
            ("sparsity_weight", None),
            ("contraction", None),
        ):
            value = getattr(self, name)
            ok = is_number(value) and (value > low if low is not None else value >= 0)
            check_param(ok, name, "a number > 0" if low is not None else "a number >= 0", value)

    def _resolve_loss(self, X: np.ndarray, *, first: bool) -> None:
        """Fix ``reconstruction_loss_`` (``"auto"``: from ``X``'s range at the first fit) and check ``X`` fits it."""
        in_unit = bool(X.min() >= 0 and X.max() <= 1)
        if first:
            self.reconstruction_loss_ = self.loss if self.loss != "auto" else ("cross_entropy" if in_unit else "mse")
        if self.reconstruction_loss_ == "cross_entropy" and not in_unit:
            raise ValueError(
                f"the cross-entropy reconstruction loss reads each feature as a probability in [0, 1], "
                f"but X holds values in [{X.min():.4g}, {X.max():.4g}]; scale X into [0, 1] "
                "(MinMaxScaler) or set loss='mse'"
            )

    # -- the network --------------------------------------------------------------------------------------

    def _module_spec(self, n_features: int, n_outputs: int | None) -> dict[str, Any]:
        """One autoencoder's constructor arguments, or a stack's sizes and nonlinearities."""
        sizes, loss = self._sizes(), self.reconstruction_loss_
        if len(sizes) > 1:
            return {
                "kind": "deep",
                "sizes": [n_features, *sizes],
                "activations": [self.activation] * len(sizes),
                "loss": loss,
                "output_activation": "sigmoid" if loss == "cross_entropy" else "identity",
            }
        return {
            "kind": self.kind,
            "n_visible": n_features,
            "n_hidden": sizes[0],
            "activation": self.activation,
            "loss": loss,
            "tied": bool(self.tied),
            **self._kind_options(),
        }

    def _kind_options(self) -> dict[str, Any]:
        """The regulariser's options, as the ``kind``'s module names them."""
        if self.kind == "denoising":
            return {"corruption": self.corruption, "level": float(self.corruption_level)}
        if self.kind == "sparse":
            return {
                "sparsity": self.sparsity,
                "target": float(self.sparsity_target),
                "weight": float(self.sparsity_weight),
            }
        if self.kind == "contractive":
            return {"contraction": float(self.contraction)}
        return {}

    @classmethod
    def _module_from_spec(cls, spec: dict[str, Any]) -> nn.Module:
        options = dict(spec)
        kind = options.pop("kind")
        if kind == "deep":
            return DeepAutoencoder(options.pop("sizes"), **options)
        return KINDS[kind][0](options.pop("n_visible"), options.pop("n_hidden"), **options)

    def _trainer_options(self, n_samples: int) -> dict[str, Any]:
        return {
            "optimizer": {"type": "adam", "lr": self.learning_rate},
            "batch_size": resolve_batch_size(self.batch_size, n_samples),
            "metrics": [],
        }

    def _pretrain(self, data: Any) -> None:
        """A stack: greedy layer-wise training of one ``kind`` autoencoder per layer, copied into the encoder
        and, transposed, the decoder (:meth:`DeepAutoencoder.load_pretrained`)."""
        self.__dict__.pop("pretrained_layers_", None)  # from an earlier fit
        if not isinstance(self.module_, DeepAutoencoder) or self.pretrain_epochs == 0:
            return
        method = {
            "method": KINDS[self.kind][1],
            "epochs": self.pretrain_epochs,
            "tied": bool(self.tied),
            "batch_size": resolve_batch_size(self.batch_size, len(data.x)),
            "optimizer": {"type": "adam", "lr": self.learning_rate},
            **self._kind_options(),
        }
        records = pretrain_layerwise(
            self.module_.encoder, data.x, method, device=self.device_, seed=self._seed_, include_last=True
        )
        self.module_.load_pretrained([r.module for r in records])
        self.pretrained_layers_ = [r.summary() for r in records]

    # -- the estimator API --------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> AutoencoderTransformer:
        """Train on ``X`` (n_samples, n_features); ``y`` is ignored."""
        self._check_params()
        X = self._validate_X(X, reset=True)
        self._resolve_loss(X, first=not (self.warm_start and hasattr(self, "module_")))
        self._train(X, None, n_outputs=None, incremental=False)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> AutoencoderTransformer:
        """One epoch over ``X``, continuing the optimizer's state (a stack is not pretrained)."""
        self._check_params()
        first = not hasattr(self, "module_")
        X = self._validate_X(X, reset=first)
        self._resolve_loss(X, first=first)
        self._train(X, None, n_outputs=None, incremental=True)
        return self

    def inverse_transform(self, X: Any) -> np.ndarray:
        """The reconstruction ``g(W' h + b)`` of codes ``X`` (n_samples, n_components), shape
        (n_samples, n_features_in_), computed and returned in ``X``'s float dtype."""
        check_is_fitted(self, "module_")
        codes = np.asarray(X.toarray() if hasattr(X, "toarray") else X)
        if codes.ndim != 2 or codes.shape[1] != self._n_features_out:
            raise ValueError(
                f"inverse_transform takes codes of {self._n_features_out} components, shape "
                f"(n_samples, {self._n_features_out}); got shape {codes.shape}"
            )
        dtype = _float_dtype(codes)
        compute = self._inference_dtype(_torch_dtype(dtype))
        module = self._module_in(compute)
        with torch.no_grad():
            out = module.decode(self._as_tensor(codes, compute).to(self.device_))
        return out.cpu().numpy().astype(dtype, copy=False)

    @torch.no_grad()
    def score_samples(self, X: Any) -> np.ndarray:
        """Minus each row's reconstruction loss (clean input, penalty excluded), shape (n_samples,); computed in
        float64, so a row's score does not depend on the rows beside it."""
        check_is_fitted(self, "module_")
        X = self._validate_X(X, reset=False)
        compute = self._inference_dtype(torch.float64)
        module, out = self._module_in(compute), []
        for start in range(0, len(X), _BATCH):
            x = self._as_tensor(X[start : start + _BATCH], compute).to(self.device_)
            errors = (
                module.objective(x) if isinstance(module, DeepAutoencoder) else module.objective(x, corrupt=False)[1]
            )
            out.append(-errors.double().cpu())
        return torch.cat(out).numpy()

    def score(self, X: Any, y: Any = None) -> float:
        """The mean of :meth:`score_samples` (higher is better)."""
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self) -> int:
        spec = self.module_spec_  # AttributeError before fit, as get_feature_names_out expects
        return spec["sizes"][-1] if "sizes" in spec else spec["n_hidden"]
