"""Generative models and greedy pretraining: RBMs, deep belief nets, autoencoders, the layer-wise driver."""
from lamina.generative.greedy import (
    GreedyLayer,
    LayerwisePretrainSpec,
    PretrainedLayer,
    dense_layers,
    pretrain_layerwise,
)

__all__ = ["GreedyLayer", "LayerwisePretrainSpec", "PretrainedLayer", "dense_layers", "pretrain_layerwise"]
