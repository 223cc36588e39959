"""What :class:`MLPClassifier` and :class:`MLPRegressor` share: scikit-learn's MLP hyper-parameters turned into a
lamina model config, an optimizer spec and :class:`~lamina.train.Trainer` options.

The hyper-parameters mean what they mean in ``sklearn.neural_network``: ``alpha`` is scikit-learn's L2 penalty
(a batch of ``B`` examples adds ``alpha / (2 B) * sum ||W||^2`` to its mean loss), ``batch_size="auto"`` is
``min(200, n_samples)``, ``tol`` and ``n_iter_no_change`` stop training by scikit-learn's rule, and the weights
start Glorot-uniform (Glorot & Bengio, 2010), so the two libraries can be compared at equal settings.

The defaults and their check are in :mod:`~lamina.sklearn.mlp_params`, scikit-learn's full-batch ``solver="lbfgs"``
in :mod:`~lamina.sklearn.lbfgs`; the other solvers train through :class:`~lamina.sklearn.base.LaminaEstimator`'s loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import _check_sample_weight
from torch import nn

from lamina.data.dataset import ArrayDataset
from lamina.nn.builder import build_model, layer_shapes
from lamina.pretrain import pretrain_layerwise
from lamina.registry import resolve
from lamina.sklearn.base import LaminaEstimator
from lamina.sklearn.convergence import InverseScalingRate, IterationLines
from lamina.sklearn.lbfgs import fit_lbfgs, full_lbfgs
from lamina.sklearn.losses import SklearnLoss
from lamina.sklearn.mlp_params import MLP_DEFAULTS, check_mlp_params, hidden_sizes
from lamina.sklearn.params import resolve_batch_size
from lamina.train.callbacks.base import Callback

__all__ = ["MLP_DEFAULTS", "BaseMLP"]


class BaseMLP(LaminaEstimator):
    """Hyper-parameter handling of the MLP estimators (documented on :class:`MLPClassifier`).

    ``shared_defaults`` is :data:`MLP_DEFAULTS`; a subclass's ``__init__`` takes those parameters with those
    defaults (unless it documents another, as :class:`DBNClassifier`'s ``hidden_layer_sizes``) and stores every
    parameter with one :func:`~lamina.sklearn.base.store_params` call.
    """

    shared_defaults: ClassVar[dict[str, Any]] = MLP_DEFAULTS
    _diverged_message = (  # scikit-learn's words
        "Solver produced non-finite parameter weights. The input data may contain large values and need to be "
        "preprocessed."
    )

    def _check_params(self) -> None:
        """Validate the hyper-parameters (:func:`~lamina.sklearn.mlp_params.check_mlp_params`)."""
        check_mlp_params(self)

    def _hidden_sizes(self) -> list[int]:
        return hidden_sizes(self.hidden_layer_sizes)

    # -- the network --------------------------------------------------------------------------------------

    def _module_spec(self, n_features: int, n_outputs: int | None) -> dict[str, Any]:
        """``{"layers": [...], "input_shape": [n_features]}``: a lamina model config taking flat rows."""
        init = {"init": self.init} if self.init is not None else {}
        layers: list[dict] = []
        if self.input_shape is not None:
            shape = [int(d) for d in self.input_shape]
            if math.prod(shape) != n_features:
                raise ValueError(
                    f"`input_shape` {tuple(shape)} holds {math.prod(shape)} values, but X has {n_features} features"
                )
            layers.append({"type": "reshape", "shape": shape})
        if self.layers is not None:
            layers += [dict(layer) for layer in self.layers]
        else:
            layers += [
                {"type": "dense", "units": h, "activation": self.activation, **init} for h in self._hidden_sizes()
            ]
        if layers and len(layer_shapes(layers, (n_features,))[-1]) != 1:
            layers.append({"type": "flatten"})
        layers.append({"type": "dense", "units": n_outputs, **init})
        return {"layers": layers, "input_shape": [n_features]}

    @classmethod
    def _module_from_spec(cls, spec: dict[str, Any]) -> nn.Module:
        return build_model({"layers": spec["layers"]}, tuple(spec["input_shape"]))

    def _dense_layers(self) -> list[nn.Linear]:
        module = self.module_  # AttributeError before fit, as scikit-learn's fitted attributes do
        linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
        others = [
            m
            for m in module.modules()
            if not isinstance(m, nn.Linear) and any(True for _ in m.parameters(recurse=False))
        ]
        if others:
            raise AttributeError(
                f"coefs_ and intercepts_ describe dense networks; this one has "
                f"{type(others[0]).__name__} layers (see module_)"
            )
        return linears

    @property
    def coefs_(self) -> list[np.ndarray]:
        """scikit-learn's view of the weights: one ``(n_in, n_out)`` array per dense layer (a copy)."""
        return [m.weight.detach().cpu().numpy().T.copy() for m in self._dense_layers()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """The biases of the dense layers (a copy)."""
        return [m.bias.detach().cpu().numpy().copy() for m in self._dense_layers()]

    @property
    def n_layers_(self) -> int:
        """Layers counting the input and the output, as scikit-learn counts them (dense networks)."""
        return len(self._dense_layers()) + 1

    # -- training -----------------------------------------------------------------------------------------

    def _sgd_rule(self) -> str:
        """scikit-learn's ``learning_rate`` rule in force: it applies to ``solver="sgd"`` only (Adam and the
        others keep their rate, as in scikit-learn)."""
        return self.learning_rate if isinstance(self.solver, str) and self.solver == "sgd" else "constant"

    def _sklearn_loss(self) -> str | None:
        """The name of the :data:`~lamina.sklearn.losses.SKLEARN_LOSSES` entry trained on, or ``None`` for a
        lamina loss (which takes no ``sample_weight``)."""
        raise NotImplementedError

    def _progress_callback(self) -> Callback:
        return IterationLines()

    def _training_callbacks(self, n_samples: int) -> list[Callback]:
        if self._sgd_rule() != "invscaling":
            return []
        return [InverseScalingRate(learning_rate_init=self.learning_rate_init, power_t=self.power_t, n_samples=0)]

    def _stopping_options(self) -> dict[str, Any]:
        return {"adaptive": self._sgd_rule() == "adaptive", "verbose": bool(self.verbose)}

    def _prepare_trainer(self, trainer: Any, X: np.ndarray, *, incremental: bool) -> None:
        """Point the trainer at this call's data: its example count for ``invscaling``, the iteration count
        for the verbose lines, and the (weighted or not) loss."""
        n_samples = len(X)
        for callback in trainer.callbacks:
            if isinstance(callback, InverseScalingRate):
                callback.t, callback.n_samples = self.t_, n_samples
            elif isinstance(callback, IterationLines):
                callback.iteration = self.n_iter_ if incremental else 0
        options = self._trainer_options(n_samples)
        if callable(options["loss"]):
            trainer.loss_fn = options["loss"]
        trainer.l2 = options["l2"]

    def _optimizer_spec(self) -> Any:
        """The lamina optimizer ``solver`` names, with scikit-learn's options for ``adam`` and ``sgd``."""
        lr, solver = self.learning_rate_init, self.solver
        if isinstance(solver, dict):
            table = dict(solver)
            if str(table.get("type", "")).lower() not in ("lbfgs", "l-bfgs"):
                table.setdefault("lr", lr)
        elif solver == "adam":
            table = {"type": "adam", "lr": lr, "betas": [self.beta_1, self.beta_2], "eps": self.epsilon}
        elif solver == "sgd":
            table = {
                "type": "sgd",
                "lr": lr,
                "momentum": self.momentum,
                "nesterov": bool(self.nesterovs_momentum and self.momentum > 0),
            }
        elif solver in ("lbfgs", "l-bfgs"):
            table = {
                "type": "lbfgs",
                "max_iter": 1,
                "line_search_fn": "strong_wolfe",
            }  # fit runs lbfgs.fit_lbfgs instead; kept for a Trainer built here
        else:
            table = {"type": solver, "lr": lr}
        return resolve("optimizer", table, path="solver")

    def _pretrain(self, data: Any) -> None:
        """Greedy layer-wise pretraining of the hidden dense layers (``pretrain``), before fine-tuning."""
        if self.pretrain is None:
            self.__dict__.pop("pretrained_layers_", None)  # from an earlier fit that pretrained
            return

        layers = pretrain_layerwise(
            self.module_, ArrayDataset(data.x), self.pretrain, device=self.device_, seed=self._seed_
        )
        self.pretrained_layers_ = [layer.summary() for layer in layers]

    def _trainer_options(self, n_samples: int) -> dict[str, Any]:
        optimizer = self._optimizer_spec()
        full_batch = optimizer.needs_closure  # L-BFGS and other closure methods see the whole training set
        batch_size = n_samples if full_batch else resolve_batch_size(self.batch_size, n_samples)
        schedule = resolve("schedule", self.schedule, path="schedule") if self.schedule is not None else None
        name = self._sklearn_loss() if getattr(self, "_weighted", False) else None
        weighted = name is not None
        return {
            # with sample weights the loss carries scikit-learn's penalty alpha / (2 sum w) ||W||^2 itself
            "loss": SklearnLoss(name, alpha=self.alpha, penalized=self.module_) if name is not None else self._loss,
            "optimizer": optimizer,
            "schedule": schedule,
            "batch_size": batch_size,
            "l2": 0.0 if weighted else self.alpha / batch_size,
            "metrics": [],
            "shuffle": bool(getattr(self, "shuffle", True)),
        }

    def _fit_mlp(
        self,
        X: np.ndarray,
        y: np.ndarray,
        target: Callable[[np.ndarray], torch.Tensor],
        n_outputs: int,
        *,
        incremental: bool,
        stratify: bool,
        sample_weight: Any = None,
    ) -> None:
        """Train on validated ``X`` and ``y``; ``target`` turns labels into the loss's targets; ``sample_weight``
        weighs each example's loss (scikit-learn's normalisation, see :mod:`lamina.sklearn.losses`)."""
        self._check_params()
        if sample_weight is not None:
            if self._sklearn_loss() is None:
                raise ValueError(
                    f"sample_weight needs one of scikit-learn's losses ('squared_error', 'poisson'); the lamina "
                    f"loss {getattr(self, 'loss', None)!r} takes no per-example weights"
                )
            sample_weight = np.ascontiguousarray(_check_sample_weight(sample_weight, X, dtype=np.float64))
        self._weighted = sample_weight is not None
        if full_lbfgs(self.solver) and not incremental:
            fit_lbfgs(self, X, target(y), n_outputs, sample_weight)
            return
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        score = None
        if self.early_stopping and not incremental:
            arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
            split = train_test_split(
                *arrays,
                test_size=self.validation_fraction,
                stratify=self._stratify_on(y) if stratify else None,
                random_state=self.random_state,
            )
            X, X_val, y, y_val = split[:4]
            if len(X_val) < 2:  # after the split, as scikit-learn checks (a stratification error comes first)
                raise ValueError(
                    f"The validation set is too small: validation_fraction={self.validation_fraction} "
                    f"of {len(X) + len(X_val)} examples holds fewer than 2. Increase 'validation_fraction' or the "
                    "size of your dataset."
                )
            sample_weight, weight_val = (split[4], split[5]) if sample_weight is not None else (None, None)
            score = self._validation_score(X_val, y_val, weight_val)
        weights = None if sample_weight is None else torch.tensor(sample_weight, dtype=torch.float32)
        self._train(X, target(y), n_outputs=n_outputs, incremental=incremental, score=score, weights=weights)

    def _stratify_on(self, y: np.ndarray) -> np.ndarray:
        """What the early-stopping split is stratified on: the labels, or for two classes scikit-learn's
        binarised ``(n, 1)`` boolean column (so that its error names the class as scikit-learn does, 'True')."""
        classes = getattr(self, "classes_", None)
        if classes is not None and len(classes) == 2:
            return (y == classes[1]).reshape(-1, 1)
        return y

    def _validation_score(
        self, X_val: np.ndarray, y_val: np.ndarray, weights: np.ndarray | None = None
    ) -> Callable[[nn.Module], float]:
        """``score(module)``: the estimator's ``score`` on the held-out examples (accuracy or R^2), weighted by
        ``weights`` when given."""
        inputs = self._as_tensor(X_val)

        def score(module: nn.Module) -> float:
            """The held-out score of ``module``, computed in evaluation mode."""
            was_training = module.training
            module.eval()
            with torch.no_grad():
                outputs = module(inputs.to(self.device_)).float().cpu().numpy()
            module.train(was_training)
            return self._score_outputs(outputs, y_val, weights)

        return score
