"""In-memory datasets (:class:`ArrayDataset`), train/validation/test :class:`Splits`, and the base of every
registered dataset spec (:class:`DatasetSpec`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Annotated, Any, ClassVar, NamedTuple

import torch
from pydantic import BeforeValidator, model_validator
from torch.utils.data import Dataset

from lamina.config.fields import component, fail, raise_problems
from lamina.config.spec import Spec
from lamina.data.bucketing import BucketingSpec
from lamina.data.sources import RemoteFile
from lamina.data.transforms import Compose
from lamina.errors import DataError

__all__ = ["ArrayDataset", "Splits", "DatasetSpec", "hold_out", "Holdout"]


class ArrayDataset(Dataset):
    """Examples held as tensors whose first dimension indexes the example.

    ``dataset[i]`` is ``(x, y)``: ``x`` a tensor (a tuple of tensors for several inputs), ``y`` the target
    (a tuple of targets for a multi-task model; ``None`` for unlabelled data). The trainer batches it by index, on the
    training device, without a ``DataLoader``.

    Args:
        inputs: one tensor, or a sequence of tensors for a model with several inputs.
        targets: labels (int64 class indices) or regression targets, or a sequence of such tensors (one per head
            of a multi-task model); ``None`` for unlabelled data.
        classes: class names, if the targets are class indices.
        name: for messages and reports.
        transform: applied to the inputs of every training batch by the trainer's loader (data augmentation, from
            the dataset's ``augment`` option); ``None``: none. Evaluation never applies it.
        bucketing: batch the examples by sequence length when training (a :class:`~lamina.data.bucketing.
            BucketingSpec`, from the dataset's ``bucketing`` option); ``None``: plain shuffled batches.
    """

    def __init__(
        self,
        inputs: torch.Tensor | Sequence[torch.Tensor],
        targets: torch.Tensor | Sequence[torch.Tensor] | None = None,
        *,
        classes: Sequence[str] | None = None,
        name: str = "",
        transform: Callable[[Any], Any] | None = None,
        bucketing: BucketingSpec | None = None,
    ) -> None:
        self.bucketing = bucketing
        self.inputs: tuple[torch.Tensor, ...] = (inputs,) if isinstance(inputs, torch.Tensor) else tuple(inputs)
        self.targets = targets if targets is None or isinstance(targets, torch.Tensor) else tuple(targets)
        self.classes = list(classes) if classes is not None else None
        self.name = name
        self.transform = transform
        sizes = {len(t) for t in self.inputs} | {len(t) for t in _target_list(self.targets)}
        if len(sizes) != 1:
            raise DataError(
                f"{name or 'dataset'}: inputs and targets hold different numbers of examples: {sorted(sizes)}"
            )

    def __len__(self) -> int:
        return len(self.inputs[0])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        x = self.inputs[0][index] if len(self.inputs) == 1 else tuple(t[index] for t in self.inputs)
        return x, _map_targets(self.targets, lambda t: t[index])

    @property
    def x(self) -> torch.Tensor:
        """The input tensor of a single-input dataset."""
        if len(self.inputs) != 1:
            raise DataError(f"{self.name or 'dataset'} has {len(self.inputs)} inputs; use .inputs")
        return self.inputs[0]

    @property
    def y(self) -> torch.Tensor | None:
        """The targets."""
        return self.targets

    @property
    def input_shape(self) -> tuple[int, ...] | list[tuple[int, ...]]:
        """One example's shape (a list of shapes for several inputs)."""
        shapes = [tuple(t.shape[1:]) for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def num_classes(self) -> int | None:
        """Number of classes, for labelled classification data."""
        if self.classes is not None:
            return len(self.classes)
        if isinstance(self.targets, torch.Tensor) and not self.targets.is_floating_point() and len(self.targets):
            return int(self.targets.max()) + 1
        return None

    def subset(self, index: torch.Tensor | slice) -> ArrayDataset:
        """The examples at ``index`` (a slice gives views, an index tensor copies)."""
        return ArrayDataset(
            [t[index] for t in self.inputs],
            _map_targets(self.targets, lambda t: t[index]),
            classes=self.classes,
            name=self.name,
            transform=self.transform,
            bucketing=self.bucketing,
        )

    def to(self, device: torch.device | str) -> ArrayDataset:
        """The same examples on ``device``."""
        return ArrayDataset(
            [t.to(device) for t in self.inputs],
            _map_targets(self.targets, lambda t: t.to(device)),
            classes=self.classes,
            name=self.name,
            transform=self.transform,
            bucketing=self.bucketing,
        )

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.inputs)
        targets = ", ".join(str(tuple(t.shape)) for t in _target_list(self.targets)) or None
        return f"ArrayDataset({self.name!r}, inputs {shapes}, targets {targets})"


def _target_list(targets: Any) -> list[torch.Tensor]:
    return [] if targets is None else [targets] if isinstance(targets, torch.Tensor) else list(targets)


def _map_targets(targets: Any, fn: Any) -> Any:
    """``fn`` applied to the target tensor, or to each of a tuple of them (``None`` stays ``None``)."""
    if targets is None or isinstance(targets, torch.Tensor):
        return None if targets is None else fn(targets)
    return tuple(fn(t) for t in targets)


class Splits(NamedTuple):
    """A dataset's train, validation (``None`` if none was held out) and test parts."""

    train: ArrayDataset
    validation: ArrayDataset | None
    test: ArrayDataset | None


def _holdout(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(f"expected a count of examples (integer >= 0) or a fraction in [0, 1), got {value!r}")
    if isinstance(value, int) and value < 0 or isinstance(value, float) and not 0 <= value < 1:
        raise fail(f"expected a count of examples (integer >= 0) or a fraction in [0, 1), got {value!r}")
    return value


Holdout = Annotated[int | float, BeforeValidator(_holdout)]


def hold_out(
    train: ArrayDataset, validation: int | float, split_seed: int | None = None
) -> tuple[ArrayDataset, ArrayDataset | None]:
    """Split ``validation`` examples (a count, or a fraction) off ``train``, deterministically.

    With ``split_seed=None`` the last examples are held out (MNIST's usual validation set is the last 10,000
    training images); with a seed, a seeded random permutation chooses them.
    """
    n = len(train)
    k = round(validation * n) if isinstance(validation, float) else validation
    if k == 0:
        return train, None
    if k >= n:
        raise DataError(f"{train.name}: validation = {validation} leaves no training examples (there are {n})")
    if split_seed is None:
        return train.subset(slice(0, n - k)), train.subset(slice(n - k, n))
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(split_seed))
    return train.subset(perm[: n - k].sort().values), train.subset(perm[n - k :].sort().values)


class DatasetSpec(Spec):
    """A registered dataset (``[data] name = "mnist"``): options, and ``load() -> Splits``.

    Args:
        validation: examples held out of the training set for validation: a count or a fraction.
        split_seed: ``None`` holds out the last examples; an integer, a seeded random choice.
        augment: data transforms (``[{ type = "elastic", alpha = 34.0, sigma = 4.0 }]``) applied in order to every
            training batch by the trainer; the training split returned by ``load()`` carries them as its
            ``transform`` (:mod:`lamina.data.transforms`).
        bucketing: train on batches of sequences of similar lengths (``{ pad_value = 0.0 }``;
            :mod:`lamina.data.bucketing`); ``None``: plain shuffled batches.
    """

    files: ClassVar[dict[str, RemoteFile]] = {}  # the downloadable files, by name (empty if generated or bundled)

    validation: Holdout = 0
    split_seed: int | None = None
    augment: list[component("transform")] | None = None
    bucketing: BucketingSpec | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "load" in cls.__dict__:  # every dataset's load() hands its training split the augment transforms
            cls.load = _attaching_augment(cls.__dict__["load"])  # type: ignore[method-assign]

    def known_train_examples(self) -> int | None:
        """The training examples before the validation hold-out, where this is known without loading the data
        (``None``: only :meth:`load` knows), so that ``config check`` can refuse a ``validation`` leaving none."""
        return None

    @model_validator(mode="after")
    def _validation_leaves_training_examples(self) -> DatasetSpec:
        n = self.known_train_examples()
        if n is None:
            return self
        held = round(self.validation * n) if isinstance(self.validation, float) else self.validation
        if held >= n:
            raise_problems(
                "validation",
                [
                    (
                        ("validation",),
                        f"validation = {self.validation} holds out {held} of the {n} training examples of "
                        f"{self.registered_name!r}, leaving none to train on; give fewer (a count below {n}, or a "
                        "fraction)",
                    )
                ],
            )
        return self

    def load(self) -> Splits:
        """Read (downloading if needed) and split the dataset."""
        raise NotImplementedError(f"{type(self).__name__} must define load()")


def _attaching_augment(load: Callable[[Any], Splits]) -> Callable[[Any], Splits]:
    """``load`` whose training split carries the spec's ``augment`` transforms (set, not appended: a ``load`` that
    calls its parent's gets them once) and its ``bucketing``."""

    @functools.wraps(load)
    def wrapped(self: DatasetSpec) -> Splits:
        """The dataset's splits, its training split carrying the ``augment`` transforms."""
        splits = load(self)
        if not self.augment and self.bucketing is None:
            return splits
        train = splits.train
        train = ArrayDataset(
            train.inputs,
            train.targets,
            classes=train.classes,
            name=train.name,
            transform=Compose([t.build() for t in self.augment]) if self.augment else train.transform,
            bucketing=self.bucketing,
        )
        return Splits(train, splits.validation, splits.test)

    return wrapped
