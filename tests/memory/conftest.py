"""One intra-op thread for the memory tests: they run many small torch operations (one asynchronous update step
after another), which on a busy machine cost up to 100 times more when each waits for a second thread. The thread
count is restored after each test."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
