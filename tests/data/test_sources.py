"""Dataset files: lookup order, sha256 verification, atomic downloads, offline failure messages."""

from __future__ import annotations

import hashlib
import io
import urllib.error

import pytest

from lamina.data import sources
from lamina.data.sources import RemoteFile, fetch
from lamina.errors import ChecksumError, DataError

CONTENT = b"the canonical bytes"
SHA = hashlib.sha256(CONTENT).hexdigest()
FILE = RemoteFile("toy", "toy.bin", SHA, ("https://example.invalid/toy.bin",))


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMINA_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LAMINA_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_found_in_lamina_data_and_verified(data_dir):
    (data_dir / "data" / "toy").mkdir(parents=True)
    (data_dir / "data" / "toy" / "toy.bin").write_bytes(CONTENT)
    assert fetch(FILE, download=False) == data_dir / "data" / "toy" / "toy.bin"


def test_wrong_sha256_names_the_file_and_both_hashes(data_dir):
    (data_dir / "data" / "toy").mkdir(parents=True)
    bad = data_dir / "data" / "toy" / "toy.bin"
    bad.write_bytes(b"tampered")
    with pytest.raises(ChecksumError) as info:
        fetch(FILE)
    message = str(info.value)
    assert str(bad) in message and SHA in message and hashlib.sha256(b"tampered").hexdigest() in message


def test_download_goes_to_the_cache_atomically(data_dir, monkeypatch):
    monkeypatch.setattr(sources.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(CONTENT))
    path = fetch(FILE)
    assert path == data_dir / "cache" / "toy" / "toy.bin" and path.read_bytes() == CONTENT
    assert [p.name for p in path.parent.iterdir()] == ["toy.bin"]  # no temporary file left


def test_corrupt_download_is_not_kept(data_dir, monkeypatch):
    monkeypatch.setattr(sources.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"junk"))
    with pytest.raises(ChecksumError):
        fetch(FILE)
    assert not (data_dir / "cache" / "toy" / "toy.bin").exists()
    assert list((data_dir / "cache" / "toy").iterdir()) == []


def test_offline_failure_says_where_to_put_the_file(data_dir, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(sources.urllib.request, "urlopen", offline)
    with pytest.raises(DataError) as info:
        fetch(FILE)
    message = str(info.value)
    assert "toy/toy.bin" in message and "no network" in message and "LAMINA_DATA" in message


def test_download_false_never_touches_the_network(data_dir, monkeypatch):
    monkeypatch.setattr(sources.urllib.request, "urlopen", lambda *a, **k: pytest.fail("network used"))
    with pytest.raises(DataError, match="not found"):
        fetch(FILE, download=False)
