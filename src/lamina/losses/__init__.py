"""Losses by name (``[train] loss = "cross_entropy"``): the standard regression and classification losses
(:mod:`.standard`: mse, mae, huber, cross_entropy, binary_cross_entropy), the CTC loss and its decoders
(:mod:`.ctc`), the multi-label loss (:mod:`.multi_label`)
and the multi-task loss over several output heads (:mod:`.multi_task`). Each registers under the ``loss`` kind.
"""

from lamina.losses.standard import (
    BinaryCrossEntropyLoss,
    CrossEntropyLoss,
    HuberLoss,
    LossSpec,
    MAELoss,
    MSELoss,
    matched_target,
)
from lamina.losses.ctc import CTCLoss, CTCLossSpec, ctc_beam_search, ctc_greedy_decode
from lamina.losses.multi_label import MultiLabelLoss, MultiLabelLossSpec, SubsetAccuracy, multi_label_loss
from lamina.losses.multi_task import HeadLoss, HeadMetric, HeadSpec, MultiTaskLoss, MultiTaskLossSpec, select_target

__all__ = [
    "BinaryCrossEntropyLoss",
    "CTCLoss",
    "CTCLossSpec",
    "CrossEntropyLoss",
    "HeadLoss",
    "HeadMetric",
    "HeadSpec",
    "HuberLoss",
    "LossSpec",
    "MAELoss",
    "MSELoss",
    "MultiLabelLoss",
    "MultiLabelLossSpec",
    "MultiTaskLoss",
    "MultiTaskLossSpec",
    "SubsetAccuracy",
    "ctc_beam_search",
    "ctc_greedy_decode",
    "matched_target",
    "multi_label_loss",
    "select_target",
]
