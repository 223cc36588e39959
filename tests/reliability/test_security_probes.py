"""``benchmarks/security_probes.py``, which the reliability benchmark records, refuses every attack of issue 22."""

from __future__ import annotations

import pytest

from benchmarks.security_probes import security_probes

pytestmark = pytest.mark.reliability


def test_every_probe_is_refused_without_harm(tmp_path):
    results = security_probes(tmp_path)
    assert len(results) == 10
    failed = {name: r for name, r in results.items() if not r["refused"] or r["harmed"]}
    assert failed == {}
