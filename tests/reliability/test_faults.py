"""Faults and hostile input: corrupted files, malicious checkpoints, version mismatches, unshardable configs.
Each produces lamina's own error with a message, never a raw traceback, and never runs foreign code."""

from __future__ import annotations

import ast
import gzip
import struct

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lamina.data.idx import parse_idx, read_idx
from lamina.errors import CheckpointError, ConfigError, DataError
from lamina.train.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from lamina.train.trainer import Trainer
from tests.conftest import ROOT
from tests.helpers import Payload

pytestmark = pytest.mark.reliability


def test_malicious_checkpoint_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "state": {"model": Payload(marker)}}, path)
    with pytest.raises(CheckpointError, match="refused: the file holds Python objects"):
        load_checkpoint(path)
    assert not marker.exists()


def test_checkpoint_from_an_incompatible_version_names_it(tmp_path):
    path = tmp_path / "old.pt"
    torch.save({"format": FORMAT + 1, "lamina_version": "9.9.0", "state": {}}, path)
    with pytest.raises(CheckpointError, match=r"written by lamina 9.9.0 in checkpoint format"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"", b"garbage" * 10, b"PK\x03\x04broken zip"])
def test_torn_or_foreign_checkpoints(tmp_path, content):
    path = tmp_path / "last.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="last.pt"):
        load_checkpoint(path)


def test_truncated_checkpoint(tmp_path):
    path = save_checkpoint({"model": {"w": torch.randn(100, 100)}}, tmp_path / "full.pt")
    data = path.read_bytes()
    (tmp_path / "half.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(tmp_path / "half.pt")


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64))
def test_idx_parser_on_random_bytes_raises_only_data_errors(raw):
    try:
        parse_idx(raw)
    except DataError as err:
        assert "<bytes>" in str(err)


def test_idx_header_claiming_a_huge_array_is_refused_without_allocating(tmp_path):
    path = tmp_path / "huge.idx.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3i", 2**31 - 1, 2**31 - 1, 2**31 - 1)))
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)


def test_unshardable_configs_say_why():
    trainer = Trainer(torch.nn.Linear(2, 1), loss="mse", optimizer="lbfgs", batch_size=4)
    trainer.world_size = 2
    with pytest.raises(ConfigError, match="closure.*run it in one process"):
        trainer._distribute()
    trainer = Trainer(torch.nn.Linear(2, 1), loss="mse", batch_size=1)
    trainer.world_size = 4
    with pytest.raises(ConfigError, match="batch_size: 1 cannot be sharded over 4 processes"):
        trainer._distribute()


FORBIDDEN_CALLS = {"eval", "exec", "pickle.load", "pickle.loads", "marshal.loads", "yaml.load"}


def test_no_unsafe_deserialisation_anywhere_in_the_library():
    problems = []
    for path in sorted((ROOT / "src" / "lamina").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name in FORBIDDEN_CALLS:
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
                if name.endswith("torch.load") or name == "load" and "torch" in ast.unparse(node):
                    keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
                    if keywords.get("weights_only") != "True":
                        problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: torch.load without weights_only=True")
                if name.endswith("np.load") or name.endswith("numpy.load"):
                    keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
                    if keywords.get("allow_pickle") != "False":
                        problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: np.load without allow_pickle=False")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "content", [b"hello\nthis is a text file\n" * 3, bytes(range(256)) * 4, b"\x80\x02}q\x00.", b"PK\x03\x04broken zip"]
)
def test_any_non_checkpoint_file_gives_the_corrupted_message(tmp_path, content):
    # a text file used to end in a 63-line traceback (`KeyError: 101`); random bytes in "refused: Python objects"
    path = tmp_path / "last.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"last.pt: corrupted or not a checkpoint"):
        load_checkpoint(path)
