"""A minimal unsupervised network with ``training_loss`` and ``transform``, and its scikit-learn wrapper: what an
RBM or autoencoder transformer will look like on :class:`lamina.sklearn.LaminaTransformer`."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from lamina.pretrain import GreedyLayer, LayerwisePretrainSpec
from lamina.sklearn import LaminaTransformer


class TinyAutoencoder(nn.Module):
    """``h = sigmoid(W x + b)``, ``x' = V h + c``, trained on ``mean (x' - x)^2``."""

    def __init__(self, n_visible: int, n_hidden: int) -> None:
        super().__init__()
        self.encoder, self.decoder = nn.Linear(n_visible, n_hidden), nn.Linear(n_hidden, n_visible)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.encoder(x))

    def inverse_transform(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(x))

    def training_loss(self, batch) -> torch.Tensor:
        x, _ = batch
        return F.mse_loss(self(x), x)


class TinyAutoencoderTransformer(LaminaTransformer):
    """The wrapper: parameters stored as given, the network and the optimizer from them."""

    def __init__(
        self,
        n_components: int = 3,
        *,
        learning_rate: float = 0.01,
        batch_size: int = 32,
        max_iter: int = 20,
        tol: float = 1e-4,
        n_iter_no_change: int = 5,
        random_state=None,
        device: str = "cpu",
    ) -> None:
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.device = device

    def _module_spec(self, n_features, n_outputs):
        return {"n_visible": n_features, "n_hidden": self.n_components}

    @classmethod
    def _module_from_spec(cls, spec):
        return TinyAutoencoder(**spec)

    def _trainer_options(self, n_samples):
        return {"optimizer": {"type": "adam", "lr": self.learning_rate}, "batch_size": min(self.batch_size, n_samples)}


class TiedAutoencoderLayer(GreedyLayer):
    """A greedy module for pretraining tests: ``x -> sigmoid(W x + c) -> W^T h + b`` on squared error."""

    def __init__(self, n_visible: int, n_hidden: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_hidden, n_visible) * 0.1)
        self.hidden_bias = nn.Parameter(torch.zeros(n_hidden))
        self.visible_bias = nn.Parameter(torch.zeros(n_visible))

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x @ self.weight.T + self.hidden_bias)

    def training_loss(self, batch) -> torch.Tensor:
        x, _ = batch
        return (self.transform(x) @ self.weight + self.visible_bias - x).pow(2).mean()


class TiedAutoencoderPretraining(LayerwisePretrainSpec):
    """An unregistered pretraining method (the registered ones, RBM and autoencoders, come with their issues)."""

    def build_module(self, n_visible: int, n_hidden: int, activation: str) -> GreedyLayer:
        return TiedAutoencoderLayer(n_visible, n_hidden)
