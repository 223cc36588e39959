"""Associative memories: the Hopfield network (Hebbian, pseudo-inverse, desaturation) and its modern form.

``Hopfield`` stores bipolar patterns and recalls them from corrupted probes; ``capacity_curve`` measures how many
it holds; ``ModernHopfield`` and the ``hopfield_attention`` layer are the continuous, softmax-retrieval network;
``NTM`` (the ``ntm`` layer) is the Neural Turing Machine, its addressing and read/write rules in ``ntm``, its
copy task (``copy_batch``, ``copy_loss``, ``bit_errors``) in ``copy_task``.
The math lives in pure functions (``learning``, ``dynamics``, ``modern``) that the classes call.
"""

from lamina.memory.attention import HopfieldAttention, HopfieldAttentionSpec
from lamina.memory.capacity import THEORY, CapacityCurve, capacity_curve, plot_capacity
from lamina.memory.copy_task import bit_errors, copy_batch, copy_loss
from lamina.memory.dynamics import (
    RecallResult,
    async_recall,
    energy,
    is_fixed_point,
    local_fields,
    sync_recall,
)
from lamina.memory.hopfield import Hopfield
from lamina.memory.learning import (
    desaturate,
    greville_append,
    hebbian_weights,
    projection_update,
    projection_weights,
)
from lamina.memory.ntm_layer import NTM, NTMSpec
from lamina.memory.modern import ModernHopfield, modern_energy, softmax_update
from lamina.memory.patterns import PatternError, as_bipolar, flip_bits

__all__ = [
    "CapacityCurve",
    "Hopfield",
    "HopfieldAttention",
    "HopfieldAttentionSpec",
    "ModernHopfield",
    "NTM",
    "NTMSpec",
    "PatternError",
    "RecallResult",
    "THEORY",
    "as_bipolar",
    "async_recall",
    "bit_errors",
    "capacity_curve",
    "copy_batch",
    "copy_loss",
    "desaturate",
    "energy",
    "flip_bits",
    "greville_append",
    "hebbian_weights",
    "is_fixed_point",
    "local_fields",
    "modern_energy",
    "plot_capacity",
    "projection_update",
    "projection_weights",
    "softmax_update",
    "sync_recall",
]
