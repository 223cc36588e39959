"""Harness entry for the variational autoencoder layer of issue #27 (see tests/helpers.py)."""

from __future__ import annotations

# name -> (options, input shape, expected output shape, expected parameters)
CASES: dict[str, tuple[dict, object, tuple, int]] = {
    # encoder 6-4-(2+2): 6*4+4 + 4*4+4 = 48; decoder 2-4-6: 2*4+4 + 4*6+6 = 42; the output is the flat reconstruction
    "vae": ({"n_latent": 2, "hidden": 4}, (1, 2, 3), (6,), 48 + 42),
}
