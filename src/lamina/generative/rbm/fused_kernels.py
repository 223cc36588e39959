"""Fused CPU kernels for an RBM's Gibbs steps in float32 (``_rbm_kernels.c``): one pass over a layer's logits gives
its sigmoid, its Bernoulli sample, the sum of its softplus (the free energy's hidden term) and its column sums, and
the uniforms come from Threefry-2x32-20 (Salmon et al., 2011; JAX's generator), a counter-based generator that
vectorises, instead of torch's one-at-a-time mt19937.

Measured on a 2-core AMD EPYC, for the 128 x 500 hidden logits of a 784-500 RBM's batch: sigmoid, sample, softplus
sum and column means take 0.75 ms with torch's kernels (the uniform draws alone 0.26-0.30 ms) and 0.24-0.26 ms fused,
on one thread; inside a CD-1 training loop the step is 3-5% shorter (``benchmarks/rbm_speed.py`` measures it).

The C file is compiled at first use by the system C compiler (``$CC``, else Python's, else ``cc``) into
``$LAMINA_CACHE/kernels`` (default ``~/.cache/lamina/kernels``), named by a hash of the source, the flags and the
machine, and loaded with ``ctypes`` (which releases the GIL during each call). Loading a shared object runs its code,
so (issue 22) that folder must be private: created with mode 0700, a real folder owned by this user that no one else
can write to; the sha256 of the library is recorded at build time and checked before every load, and a library that
does not match, or lacks the kernels' symbols, is rebuilt or refused. Where no private folder can be had, the kernels
are not used and one warning says why. Where no compiler works, or with
``LAMINA_FUSED_KERNELS=0``, :func:`available` is ``False`` and callers keep torch's formulas. Both paths agree to
float32 rounding except in their random draws: each path's draws are a deterministic function of the
``torch.Generator`` it is given (the fused one takes a fresh 64-bit Threefry key from it per call), so seeded runs
repeat exactly on the same machine, but a fused and an unfused run differ in their samples.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shlex
import stat
import subprocess
import sysconfig
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from lamina import files
from lamina.data.sources import cache_home

__all__ = [
    "available",
    "applies",
    "unavailable_reason",
    "disabled",
    "SigmoidPass",
    "sigmoid_pass",
    "bernoulli",
    "threefry2x32_20",
]

_SOURCE = Path(__file__).with_name("_rbm_kernels.c")
_LOCK = threading.Lock()
_STATE: dict = {"lib": None, "tried": False, "reason": None, "off": 0}  # off: disabled() depth
_P = ctypes.c_void_p


def _flags() -> list[str]:
    flags = ["-O3", "-ffast-math", "-fPIC"]  # fast-math: gcc vectorises expf/logf through libmvec
    if platform.machine() in ("x86_64", "AMD64") and torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):
        flags += ["-mavx2", "-mfma"]
    return flags


class _Refused(OSError):
    """A cache folder that cannot be made private to this user, or a library without the kernels' symbols: the
    kernels are then not used at all, and a warning says why."""


def _private_folder() -> Path:
    """``$LAMINA_CACHE/kernels``, created with mode 0700, checked to be a real folder owned by this user that no one
    else can write to. There is no fallback folder: a shared one (the system's temporary folder) would let anyone
    plant the library lamina loads (issue 22)."""
    folder = cache_home() / "kernels"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError as err:
        raise _Refused(f"cannot create the private folder {folder} ({err.strerror or err})") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise _Refused(f"{folder} is a symbolic link or not a folder")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise _Refused(f"{folder} belongs to user id {info.st_uid}, not to this user ({os.getuid()})")
    if os.name != "nt" and info.st_mode & 0o022:
        raise _Refused(
            f"{folder} is writable by other users (mode {stat.S_IMODE(info.st_mode):o}); "
            "remove it and lamina will make a private one"
        )
    if os.name != "nt" and info.st_mode & 0o077:  # ours and read-only to others (an older lamina's umask): close it
        os.chmod(folder, 0o700)
    return folder


def _own_file(path: Path) -> bool:
    """``path`` is a regular file (not a link) owned by this user."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and (not hasattr(os, "getuid") or info.st_uid == os.getuid())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _recorded(folder: Path, key: str) -> Path | None:
    """The library that ``rbm_kernels-<key>.sha256`` records, if it exists and its content has that digest."""
    record = folder / f"rbm_kernels-{key}.sha256"
    if not _own_file(record):
        return None
    digest = record.read_text(encoding="ascii", errors="replace").strip()
    library = folder / f"rbm_kernels-{key}-{digest[:16]}.so"
    if len(digest) != 64 or not _own_file(library) or _sha256(library) != digest:
        return None
    return library


def _build(folder: Path, key: str, compiler: list[str], flags: list[str]) -> None:
    """Compile the kernels into ``folder``: the library is named by its own digest and renamed into place whole, then
    the digest is recorded (atomically), so any reader sees a record naming a complete library with that digest."""
    fd, partial = tempfile.mkstemp(suffix=".so", dir=folder)
    os.close(fd)
    obj = partial + ".o"
    try:
        subprocess.run([*compiler, *flags, "-c", "-o", obj, str(_SOURCE)], check=True, capture_output=True, timeout=120)
        # linked without -ffast-math: with it, gcc adds crtfastmath.o, whose constructor would switch the whole
        # process to flush-to-zero arithmetic on load
        subprocess.run([*compiler, "-shared", "-o", partial, obj, "-lm"], check=True, capture_output=True, timeout=120)
        digest = _sha256(Path(partial))
        os.replace(partial, folder / f"rbm_kernels-{key}-{digest[:16]}.so")
        files.atomic_write(folder / f"rbm_kernels-{key}.sha256", digest + "\n")
    finally:
        for leftover in (partial, obj):
            if os.path.exists(leftover):
                os.unlink(leftover)


_SYMBOLS = {  # name: (argument types, result type)
    "lamina_sigmoid_pass": (
        [_P, _P, _P, _P, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint64, ctypes.c_int, ctypes.POINTER(ctypes.c_int)],
        ctypes.c_double,
    ),
    "lamina_bernoulli": ([_P, _P, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint64], ctypes.c_int),
    "lamina_threefry2x32_20": ([_P, _P, _P], None),
}


def _compiler() -> list[str]:
    return shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")


def _build_key(compiler: list[str], flags: list[str]) -> str:
    """A hash of the source, the compiler and flags, and the machine: it names the library in the cache."""
    return hashlib.sha256(
        _SOURCE.read_bytes()
        + " ".join(compiler + flags).encode()
        + platform.machine().encode()
        + torch.backends.cpu.get_cpu_capability().encode()
    ).hexdigest()[:16]


def _compile() -> ctypes.CDLL:
    """Build (once per source, flags and machine) into the private folder, verify and load the kernels; raises
    OSError (:class:`_Refused` among them) or CalledProcessError."""
    compiler, flags = _compiler(), _flags()
    key = _build_key(compiler, flags)
    folder = _private_folder()
    library = _recorded(folder, key)
    if library is None:  # never built, or a library that is not the one recorded at build time: build it again
        _build(folder, key, compiler, flags)
        library = _recorded(folder, key)
        if library is None:
            raise OSError(f"the kernels built in {folder} do not match the digest recorded for them")
    lib = ctypes.CDLL(str(library))
    for name, (argtypes, restype) in _SYMBOLS.items():
        try:
            function = getattr(lib, name)
        except AttributeError:
            raise _Refused(f"{library} lacks the symbol {name}") from None
        function.argtypes, function.restype = argtypes, restype
    return lib


def _library() -> ctypes.CDLL | None:
    if not _STATE["tried"]:
        with _LOCK:
            if not _STATE["tried"]:
                if os.environ.get("LAMINA_FUSED_KERNELS", "1") == "0":
                    _STATE["reason"] = "disabled by LAMINA_FUSED_KERNELS=0"
                else:
                    try:
                        _STATE["lib"] = _compile()
                    except _Refused as err:  # a safety refusal, unlike a missing compiler: say it, once
                        _STATE["reason"] = str(err)
                        warnings.warn(
                            f"lamina: fused RBM kernels not used ({err}); using torch's operations (set "
                            "LAMINA_CACHE to a folder of your own to use them)",
                            RuntimeWarning,
                            stacklevel=3,
                        )
                    except (OSError, subprocess.SubprocessError) as err:
                        detail = getattr(err, "stderr", b"") or b""
                        _STATE["reason"] = f"{err} {detail.decode(errors='replace')[-500:]}".strip()
                _STATE["tried"] = True
    return _STATE["lib"]


def available() -> bool:
    """Whether the fused kernels compiled and loaded on this machine (see the module docstring)."""
    return _library() is not None and not _STATE["off"]


@contextmanager
def disabled() -> Iterator[None]:
    """Inside the block, :func:`available` is ``False`` and lamina uses torch's operations (to compare the two, or
    to repeat the draws of a run made without the kernels)."""
    with _LOCK:
        _STATE["off"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["off"] -= 1


def unavailable_reason() -> str | None:
    """Why :func:`available` is ``False`` (the compiler's message, or the environment variable), else ``None``."""
    _library()
    return _STATE["reason"]


def applies(*tensors: torch.Tensor) -> bool:
    """True when the kernels are available and every tensor is a float32 CPU tensor outside autograd."""
    return available() and all(
        t.dtype == torch.float32 and t.device.type == "cpu" and not t.requires_grad for t in tensors
    )


def _key(generator: torch.Generator | None) -> int:
    """A fresh 64-bit Threefry key drawn from ``generator`` (torch's default generator if ``None``)."""
    return int(torch.empty((), dtype=torch.int64).random_(-(2**63), None, generator=generator)) & (2**64 - 1)


def _rows(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1, t.shape[-1] if t.dim() else 1).contiguous()


@dataclass
class SigmoidPass:
    """What :func:`sigmoid_pass` computed from logits ``a`` of shape ``(N, D)``.

    Attributes:
        probabilities: ``sigmoid(a)``, ``(N, D)``.
        sample: ``(N, D)`` draws ``1[u < sigmoid(a)]`` (float 0/1), or ``None``.
        softplus_sum: ``sum softplus(a)`` over all entries (float64, as a 0-d tensor), or ``None``; NaN when a logit
            is not finite.
        column_sum: ``sigmoid(a).sum(0)``, ``(D,)``, or ``None``.
    """

    probabilities: torch.Tensor
    sample: torch.Tensor | None
    softplus_sum: torch.Tensor | None
    column_sum: torch.Tensor | None


def sigmoid_pass(
    logits: torch.Tensor,
    *,
    sample: bool = False,
    softplus: bool = False,
    column_sum: bool = False,
    generator: torch.Generator | None = None,
) -> SigmoidPass:
    """``sigmoid(logits)`` with, in the same pass, a Bernoulli sample, the sum of ``softplus(logits)`` and the
    column sums. Needs :func:`applies` ``(logits)``; ``logits`` is ``(N, D)``. Non-finite logits give the torch
    formulas' results (NaN where they are NaN), so a diverging model is still seen to diverge."""
    lib = _library()
    a = _rows(logits)
    n, d = a.shape
    h = torch.empty_like(a)
    s = torch.empty_like(a) if sample else None
    sums = torch.zeros(d, dtype=a.dtype) if column_sum else None
    status = ctypes.c_int(0)
    total = lib.lamina_sigmoid_pass(
        a.data_ptr(),
        h.data_ptr(),
        s.data_ptr() if s is not None else None,
        sums.data_ptr() if sums is not None else None,
        n,
        d,
        _key(generator) if sample else 0,
        int(softplus),
        ctypes.byref(status),
    )
    if status.value == -1:
        raise MemoryError("lamina's fused RBM kernel could not allocate a row buffer")
    if status.value == 1:  # NaN or infinite logits: fast-math results are meaningless there; torch's propagate NaN
        h = torch.sigmoid(a)
        s = torch.rand(a.shape, generator=generator).lt_(h) if sample else None
        sums = h.sum(0) if column_sum else None
        total = float(torch.nn.functional.softplus(a.double()).sum())
    return SigmoidPass(
        h.view_as(logits),
        s.view_as(logits) if s is not None else None,
        torch.tensor(total, dtype=torch.float64) if softplus else None,
        sums,
    )


def bernoulli(probabilities: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Binary draws ``1[u < p]`` (float 0/1, the shape of ``probabilities``) with Threefry uniforms of 24-bit
    resolution, as ``torch.rand``'s. Needs :func:`applies` ``(probabilities)``."""
    lib = _library()
    p = _rows(probabilities)
    out = torch.empty_like(p)
    if lib.lamina_bernoulli(p.data_ptr(), out.data_ptr(), p.shape[0], p.shape[1], _key(generator)) != 0:
        raise MemoryError("lamina's fused Bernoulli kernel could not allocate a row buffer")
    return out.view_as(probabilities)


def threefry2x32_20(counter: tuple[int, int], key: tuple[int, int]) -> tuple[int, int]:
    """The kernels' Threefry-2x32-20 block function, for its known-answer test (Random123's ``kat_vectors``)."""
    lib = _library()
    c = (ctypes.c_uint32 * 2)(*counter)
    k = (ctypes.c_uint32 * 2)(*key)
    out = (ctypes.c_uint32 * 2)()
    lib.lamina_threefry2x32_20(ctypes.addressof(c), ctypes.addressof(k), ctypes.addressof(out))
    return tuple(out)
