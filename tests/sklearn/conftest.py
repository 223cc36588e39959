"""Fixtures of the scikit-learn estimator tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """These tests train many tiny networks; on a shared 2-core machine two intra-op threads only wait on each
    other (a fit can be 50x slower under load), so they run on one, restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
