"""Layers, initializers and the model builder (``lamina.build_model``).

Every layer is a registered spec usable by name in an experiment file; modules that torch lacks
(``Graph``, ``Recurrent``, merges, residual and inception blocks, highway, maxout, DropConnect, low-rank and
tensor-train dense, ...) are plain ``torch.nn.Module`` s.
"""

from lamina.nn import activations, convolution, init, layers, merge, normalization, recurrent  # noqa: F401  (register)
from lamina.nn import (  # noqa: F401  (register the building blocks)
    additive_attention,
    alpha_dropout,
    bidirectional,
    conv_transpose,
    dot_product_attention,
    drop_path,
    dropconnect,
    highway,
    im2col,
    inception,
    instance_norm,
    low_rank,
    maxout,
    residual,
    self_attention,
    stacked_rnn,
    synthetic_gradient,
    tensor_train,
    time_distributed,
)
from lamina.nn.activations import ActivationSpec
from lamina.nn.additive_attention import AdditiveAttention
from lamina.nn.alpha_dropout import AlphaDropout
from lamina.nn.bidirectional import Bidirectional
from lamina.nn.builder import ModelConfig, Stack, build_model, layer_shapes
from lamina.nn.dot_product_attention import DotProductAttention, causal_mask, scaled_dot_product_attention
from lamina.nn.drop_path import DropPath
from lamina.nn.dropconnect import DropConnect
from lamina.nn.graph import Graph
from lamina.nn.highway import Highway
from lamina.nn.im2col import Im2ColConv2d, im2col_conv2d
from lamina.nn.inception import Inception
from lamina.nn.init import InitSpec, initialize
from lamina.nn.low_rank import LowRankLinear
from lamina.nn.lstmp import LSTMP  # registers lstmp (Sak et al., 2014)
from lamina.nn.masking import Masked  # registers masked (padded sequences)
from lamina.nn.max_norm import apply_max_norm, enforce_max_norm, max_norm_
from lamina.nn.maxout import Maxout
from lamina.nn.merge import Add, Average, Concat, Multiply
from lamina.nn.recurrent import Recurrent
from lamina.nn.residual import Residual
from lamina.nn.sampling import sample_sequence
from lamina.nn.self_attention import MultiHeadSelfAttention
from lamina.nn.spec import LayerSpec, MergeSpec
from lamina.nn.stacked_rnn import StackedRecurrent
from lamina.nn.tensor_train import TTLinear, tt_svd
from lamina.nn.synthetic_gradient import SyntheticGradient
from lamina.nn.targets_context import batch_targets
from lamina.nn.summary import count_parameters, format_summary, summarize
from lamina.nn.time_distributed import TimeDistributed
from lamina.nn.weight_norm import WeightNorm, apply_weight_norm

__all__ = [
    "ActivationSpec",
    "Add",
    "AdditiveAttention",
    "AlphaDropout",
    "Average",
    "Bidirectional",
    "Concat",
    "DotProductAttention",
    "DropConnect",
    "DropPath",
    "Graph",
    "Highway",
    "Im2ColConv2d",
    "Inception",
    "InitSpec",
    "LayerSpec",
    "LSTMP",
    "Masked",
    "LowRankLinear",
    "Maxout",
    "MergeSpec",
    "ModelConfig",
    "MultiHeadSelfAttention",
    "Multiply",
    "Recurrent",
    "Residual",
    "Stack",
    "SyntheticGradient",
    "StackedRecurrent",
    "TTLinear",
    "TimeDistributed",
    "WeightNorm",
    "apply_max_norm",
    "apply_weight_norm",
    "batch_targets",
    "enforce_max_norm",
    "max_norm_",
    "build_model",
    "causal_mask",
    "count_parameters",
    "format_summary",
    "im2col_conv2d",
    "initialize",
    "layer_shapes",
    "sample_sequence",
    "scaled_dot_product_attention",
    "summarize",
    "tt_svd",
]
