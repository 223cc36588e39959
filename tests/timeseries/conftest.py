"""The time-series tests train tiny networks, for which a second intra-op thread only adds synchronisation (on a
loaded 2-core machine a 300 x 6 -> 10 -> 1 step takes 0.2 ms on one thread and 30 ms on two)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
