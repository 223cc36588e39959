"""Layers, initializers and the model builder (``lamina.build_model``).

Every layer is a registered spec usable by name in an experiment file; modules that torch lacks
(``Graph``, ``Recurrent``, merges) are plain ``torch.nn.Module`` s.
"""
from lamina.nn import activations, convolution, init, layers, merge, normalization, recurrent  # noqa: F401  (register)
from lamina.nn.activations import ActivationSpec
from lamina.nn.builder import ModelConfig, Stack, build_model, layer_shapes
from lamina.nn.graph import Graph
from lamina.nn.init import InitSpec, initialize
from lamina.nn.merge import Add, Average, Concat, Multiply
from lamina.nn.recurrent import Recurrent
from lamina.nn.spec import LayerSpec, MergeSpec
from lamina.nn.summary import count_parameters, format_summary, summarize

__all__ = [
    "ActivationSpec",
    "Add",
    "Average",
    "Concat",
    "Graph",
    "InitSpec",
    "LayerSpec",
    "MergeSpec",
    "ModelConfig",
    "Multiply",
    "Recurrent",
    "Stack",
    "build_model",
    "count_parameters",
    "format_summary",
    "initialize",
    "layer_shapes",
    "summarize",
]
