"""Security probes (issue 22): each attack of the issue tried once against the installed lamina, recorded as refused
or not. Cheap (a few seconds, no training); :mod:`benchmarks.reliability` runs them and writes them into its JSON.

    python -m benchmarks.security_probes
"""

from __future__ import annotations

import argparse
import ctypes
import io
import json
import os
import struct
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

__all__ = ["security_probes"]


class _Payload:
    """A pickle that touches ``marker`` when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _probe(attack: Callable[[], bool]) -> dict:
    """Run ``attack`` (which returns whether the harm it attempts happened); refused means lamina raised one of its own
    errors and no harm was done."""
    from lamina.errors import LaminaError

    try:
        harmed = attack()
        return {"refused": False, "harmed": harmed, "error": None}
    except LaminaError as err:
        return {"refused": True, "harmed": False, "error": f"{type(err).__name__}: {str(err)[:160]}"}
    except Exception as err:  # noqa: BLE001 - a raw error is recorded as not refused (refusals are lamina's errors)
        return {"refused": False, "harmed": None, "error": f"{type(err).__name__}: {str(err)[:160]}"}


def _kernels_from_shared_folder(work: Path) -> bool:
    from lamina.generative.rbm import fused_kernels as fk

    blocker, shared = work / "cache-is-a-file", work / "shared-tmp"
    blocker.write_text("")
    shared.mkdir(mode=0o777)
    (shared / f"rbm_kernels-{fk._build_key(fk._compiler(), fk._flags())}.so").write_bytes(b"planted")
    saved = dict(fk._STATE), os.environ.get("LAMINA_CACHE"), tempfile.tempdir, ctypes.CDLL
    loaded: list[str] = []
    try:
        fk._STATE.update(lib=None, tried=False, reason=None)
        os.environ["LAMINA_CACHE"], tempfile.tempdir = str(blocker), str(shared)
        ctypes.CDLL = lambda path, *a, **k: loaded.append(str(path))  # type: ignore[assignment,misc]
        import warnings

        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            fk.available()
        reason = fk._STATE.get("reason")
    finally:
        fk._STATE.clear()
        fk._STATE.update(saved[0])
        if saved[1] is None:
            os.environ.pop("LAMINA_CACHE", None)
        else:
            os.environ["LAMINA_CACHE"] = saved[1]
        tempfile.tempdir, ctypes.CDLL = saved[2], saved[3]
    if loaded:
        return True
    from lamina.errors import UnsafeFileError

    raise UnsafeFileError(f"not loaded: {reason}")


def _run_name(name: str, work: Path) -> Callable[[], bool]:
    def attack() -> bool:
        from lamina.train.runs import new_run_dir

        out = work / "names" / "runs"
        made = new_run_dir(out, name)
        return out.resolve() not in made.resolve().parents

    return attack


def _append_through_link(work: Path) -> bool:
    from lamina import files

    target, link = work / "precious.txt", work / "metrics.jsonl"
    target.write_text("keep")
    link.symlink_to(target)
    files.append_text(link, "{}\n")
    return target.read_text() != "keep"


def _pt2_payload(work: Path) -> bool:
    from lamina.export import export, load

    clean = export(nn.Linear(3, 2), "exported-program", work / "clean.pt2", input_shape=(3,), verify=False).path
    marker, buffer = work / "pwned", io.BytesIO()
    torch.save(_Payload(marker), buffer)
    evil = work / "evil.pt2"
    with zipfile.ZipFile(clean) as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, buffer.getvalue() if "/data/sample_inputs/" in info.filename else src.read(info))
    try:
        load(evil)
    finally:
        harmed = marker.exists()
    return harmed


def _torchscript(work: Path) -> bool:
    from lamina.export import export, load

    path = export(nn.Linear(3, 2), "torchscript", work / "m.torchscript.pt", input_shape=(3,), verify=False).path
    load(path)
    return True  # loaded without trust_source: the file's code would have run


def _safetensors(work: Path, header: bytes) -> Callable[[], bool]:
    def attack() -> bool:
        from lamina.export import load

        path = work / "probe.safetensors"
        path.write_bytes(struct.pack("<Q", len(header)) + header)
        load(path)
        return True

    return attack


def security_probes(work: Path) -> dict:
    """Each probe: ``refused`` (lamina raised its own error), ``harmed`` (the attack's effect happened) and the
    error."""
    huge = json.dumps(
        {
            "__metadata__": {"format": "lamina", "model": "{}", "input_shapes": "[[3]]"},
            "w": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]},
        }
    )
    probes: dict[str, Callable[[], bool]] = {
        "kernels_from_shared_temp_folder": lambda: _kernels_from_shared_folder(work),
        "run_name_parent_path": _run_name("../../x", work),
        "run_name_absolute": _run_name(str(work / "abs"), work),
        "run_name_nul_byte": _run_name("a\x00b", work),
        "run_name_300_chars": _run_name("x" * 300, work),
        "append_through_symlink": lambda: _append_through_link(work),
        "pt2_pickle_payload": lambda: _pt2_payload(work),
        "torchscript_without_trust": lambda: _torchscript(work),
        "safetensors_1e6x1e6_layer": _safetensors(work, huge.encode()),
        "safetensors_malformed_json": _safetensors(work, b"{not json"),
    }
    return {name: _probe(attack) for name, attack in probes.items()}


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()  # no options; gives --help
    with tempfile.TemporaryDirectory() as tmp:
        results = security_probes(Path(tmp))
    for name, result in results.items():
        print(f"{name:34s} {'refused' if result['refused'] else 'NOT REFUSED'}  {result['error']}")


if __name__ == "__main__":
    main()
