"""Greedy layer-wise pretraining (Hinton, Osindero & Teh, 2006; Bengio et al., 2007): the protocol the experiment
runner calls (:mod:`.protocol`, ``[pretrain]`` in an experiment file) and the one driver every method runs through
(:mod:`.greedy`: a :class:`GreedyLayer` per dense layer, trained on the output of the layers below).

The methods themselves live with the models they train, so that a model and its method are one file or one folder:
``rbm`` and ``gaussian_rbm`` in :mod:`lamina.generative.rbm.pretrain`, ``linear_rbm`` in
:mod:`lamina.generative.rbm.linear`, the autoencoders in :mod:`lamina.generative.autoencoders.pretrain`. This package
sits below the models (they subclass :class:`GreedyLayer` and call :func:`pretrain_layerwise`), so it cannot import
them; ``lamina.registry.resolve("pretrain", name)`` finds every method once :mod:`lamina` is imported.
"""

from lamina.pretrain.greedy import (
    GreedyLayer,
    LayerwisePretrainSpec,
    PretrainedLayer,
    activation_name,
    dense_layers,
    pretrain_layerwise,
)
from lamina.pretrain.protocol import PretrainSpec

__all__ = [
    "GreedyLayer",
    "LayerwisePretrainSpec",
    "PretrainSpec",
    "PretrainedLayer",
    "activation_name",
    "dense_layers",
    "pretrain_layerwise",
]
