"""Data-parallel training: under DistributedDataParallel the CD surrogate's gradients are all-reduced like any other,
so each rank ends with the mean of the per-rank CD updates (gloo, two processes on the CPU)."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from lamina.generative import BernoulliRBM


class _Loss(nn.Module):
    """DDP hooks gradients through forward: expose the surrogate as the forward pass."""

    def __init__(self, rbm):
        super().__init__()
        self.rbm = rbm

    def forward(self, x):
        return self.rbm.training_loss((x, None))


def _data(rank):
    return (torch.rand(16, 12, generator=torch.Generator().manual_seed(100 + rank)) < 0.4).float()


def _rbm(rank):
    torch.manual_seed(0)
    rbm = BernoulliRBM(12, 5, init_std=0.3)
    rbm.generator = torch.Generator().manual_seed(rank)
    return rbm


def _worker(rank, port, folder):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        model = nn.parallel.DistributedDataParallel(_Loss(_rbm(rank)))
        model(_data(rank)).backward()
        torch.save({n: p.grad for n, p in model.module.rbm.named_parameters()}, os.path.join(folder, f"{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow  # spawns two processes (~5-10 s); run with -m "slow or distributed"
@pytest.mark.distributed
def test_ddp_averages_the_cd_updates_of_the_ranks(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_worker, args=(port, str(tmp_path)), nprocs=2, join=True)
    expected = {}
    for rank in range(2):
        rbm = _rbm(rank)
        rbm.training_loss((_data(rank), None)).backward()
        for name, p in rbm.named_parameters():
            expected[name] = expected.get(name, 0) + p.grad / 2
    for rank in range(2):
        got = torch.load(tmp_path / f"{rank}.pt", weights_only=True)
        for name, grad in expected.items():
            torch.testing.assert_close(got[name], grad)
