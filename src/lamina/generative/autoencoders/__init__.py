"""The autoencoder family: the one-hidden-layer autoencoder (:mod:`.autoencoder`; Rumelhart, Hinton & Williams, 1986;
Bengio et al., 2007), its denoising (:mod:`.denoising`, with the input corruptions of :mod:`.corruption`; Vincent et
al., 2008), contractive (:mod:`.contractive`; Rifai et al., 2011) and sparse (:mod:`.sparse`) variants, the deep
autoencoder (:mod:`.deep`; Hinton & Salakhutdinov, 2006), the autoencoder pretraining methods (:mod:`.pretrain`) and
the figures (:mod:`.plots`, loaded on use: matplotlib).
"""

from lamina.generative.autoencoders.autoencoder import Autoencoder
from lamina.generative.autoencoders.corruption import corrupt
from lamina.generative.autoencoders.denoising import DenoisingAutoencoder
from lamina.generative.autoencoders.contractive import ContractiveAutoencoder, contractive_penalty
from lamina.generative.autoencoders.sparse import SparseAutoencoder, kl_sparsity_penalty, l1_code_penalty
from lamina.generative.autoencoders.deep import DeepAutoencoder
from lamina.generative.autoencoders.pretrain import (  # registers the autoencoder pretraining methods
    AutoencoderPretrainSpec,
    ContractiveAutoencoderPretrainSpec,
    DenoisingAutoencoderPretrainSpec,
    SparseAutoencoderPretrainSpec,
)

__all__ = [
    "Autoencoder",
    "AutoencoderPretrainSpec",
    "ContractiveAutoencoder",
    "ContractiveAutoencoderPretrainSpec",
    "DeepAutoencoder",
    "DenoisingAutoencoder",
    "DenoisingAutoencoderPretrainSpec",
    "SparseAutoencoder",
    "SparseAutoencoderPretrainSpec",
    "contractive_penalty",
    "corrupt",
    "kl_sparsity_penalty",
    "l1_code_penalty",
]
