"""The fused RBM kernels never load a shared object someone else could have written (issue 22).

Before the fix, a cache folder that could not be created sent the build to the system's temporary folder, and any
``rbm_kernels-<key>.so`` found there (the key is computable by anyone) was loaded with ``ctypes.CDLL``, running its
code; a cached library without the kernels' symbols raised a raw ``AttributeError``.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import tempfile

import pytest

from lamina.generative.rbm import fused_kernels as fk

pytestmark = pytest.mark.reliability

has_compiler = pytest.mark.skipif(shutil.which(fk._compiler()[0]) is None, reason="no C compiler")


@pytest.fixture
def fresh(monkeypatch):
    """The kernels' state as in a new process (restored afterwards), and every CDLL call recorded."""
    monkeypatch.setitem(fk._STATE, "lib", None)
    monkeypatch.setitem(fk._STATE, "tried", False)
    monkeypatch.setitem(fk._STATE, "reason", None)
    monkeypatch.delenv("LAMINA_FUSED_KERNELS", raising=False)
    loaded = []
    real = ctypes.CDLL

    def recording(path, *args, **kwargs):
        loaded.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(ctypes, "CDLL", recording)
    return loaded


def _key():
    return fk._build_key(fk._compiler(), fk._flags())


def test_no_private_folder_means_torch_and_a_warning_never_the_temporary_folder(tmp_path, monkeypatch, fresh):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("LAMINA_CACHE", str(blocker))  # cache_home()/kernels cannot be created
    shared = tmp_path / "shared-tmp"
    shared.mkdir(mode=0o777)
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    (shared / f"rbm_kernels-{_key()}.so").write_bytes(b"planted by someone else")
    with pytest.warns(RuntimeWarning, match=r"fused RBM kernels not used \(cannot create the private folder"):
        assert not fk.available()
    assert fresh == []
    assert "cannot create the private folder" in fk.unavailable_reason()


def test_a_folder_others_can_write_to_is_refused(tmp_path, monkeypatch, fresh):
    folder = tmp_path / "cache" / "kernels"
    folder.mkdir(parents=True)
    os.chmod(folder, 0o777)
    monkeypatch.setenv("LAMINA_CACHE", str(folder.parent))
    with pytest.warns(RuntimeWarning, match="writable by other users"):
        assert not fk.available()
    assert fresh == [] and list(folder.iterdir()) == []


def test_a_linked_folder_is_refused(tmp_path, monkeypatch, fresh):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "kernels").symlink_to(elsewhere)
    monkeypatch.setenv("LAMINA_CACHE", str(tmp_path / "cache"))
    with pytest.warns(RuntimeWarning, match="symbolic link"):
        assert not fk.available()
    assert fresh == []


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to give the folder away")
def test_a_folder_owned_by_someone_else_is_refused(tmp_path, monkeypatch, fresh):
    folder = tmp_path / "cache" / "kernels"
    folder.mkdir(parents=True, mode=0o700)
    os.chown(folder, 65534, 65534)
    monkeypatch.setenv("LAMINA_CACHE", str(folder.parent))
    with pytest.warns(RuntimeWarning, match="belongs to user id 65534"):
        assert not fk.available()
    assert fresh == []


def _plant(folder, content: bytes, recorded_digest: str) -> os.PathLike:
    """A library and a digest record as a build would leave them (the record may lie about the content)."""
    folder.mkdir(parents=True, mode=0o700, exist_ok=True)
    library = folder / f"rbm_kernels-{_key()}-{recorded_digest[:16]}.so"
    library.write_bytes(content)
    (folder / f"rbm_kernels-{_key()}.sha256").write_text(recorded_digest + "\n")
    return library


def test_a_library_without_the_kernels_symbols_falls_back(tmp_path, monkeypatch, fresh):
    content = b"a library from another build"
    _plant(tmp_path / "cache" / "kernels", content, hashlib.sha256(content).hexdigest())
    monkeypatch.setenv("LAMINA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(ctypes, "CDLL", lambda path, *a, **k: fresh.append(path) or object())
    with pytest.warns(RuntimeWarning, match="lacks the symbol lamina_sigmoid_pass"):
        assert not fk.available()
    assert len(fresh) == 1


@has_compiler
def test_a_library_that_does_not_match_its_digest_is_rebuilt_never_loaded(tmp_path, monkeypatch, fresh):
    monkeypatch.setenv("LAMINA_CACHE", str(tmp_path / "cache"))
    tampered = _plant(tmp_path / "cache" / "kernels", b"tampered", "0" * 64)
    if not fk.available():
        pytest.skip(f"kernels do not build here: {fk.unavailable_reason()}")
    assert len(fresh) == 1 and fresh[0] != str(tampered)
    record = (tmp_path / "cache" / "kernels" / f"rbm_kernels-{_key()}.sha256").read_text().strip()
    with open(fresh[0], "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == record
    assert os.stat(tmp_path / "cache" / "kernels").st_mode & 0o777 == 0o700
    assert fk.threefry2x32_20((0, 0), (0, 0)) == (0x6B200159, 0x99BA4EFE)  # Random123's known answer
