"""No writes through symbolic links (issue 22): every file lamina appends to or rewrites refuses a link planted in
its place, and the link's target is never opened. Each test fails on the code before the fix (which followed the
link: ``open(path, "a")``, ``Path.write_text``, ``savefig(path)``)."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

import lamina
from lamina import files
from lamina.errors import LaminaError, UnsafeFileError
from lamina.train.callbacks import MetricsLog
from lamina.train.runs import write_summary
from tests.conftest import ROOT

pytestmark = pytest.mark.reliability

SECRET = "precious: lamina must never touch this\n"


@pytest.fixture
def target(tmp_path):
    """A file outside the run folder that a planted link points to."""
    path = tmp_path / "outside" / "precious.txt"
    path.parent.mkdir()
    path.write_text(SECRET)
    return path


def _link(path, target):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


def test_unsafe_file_error_is_a_lamina_error_and_an_os_error():
    assert issubclass(UnsafeFileError, LaminaError) and issubclass(UnsafeFileError, OSError)


def test_append_refuses_a_link_and_leaves_the_target_alone(tmp_path, target):
    link = _link(tmp_path / "run" / "metrics.jsonl", target)
    with pytest.raises(UnsafeFileError, match=r"metrics\.jsonl: is a symbolic link"):
        files.append_text(link, "{}\n")
    assert target.read_text() == SECRET


def test_atomic_write_refuses_a_link_and_leaves_link_and_target_alone(tmp_path, target):
    link = _link(tmp_path / "run" / "summary.json", target)
    with pytest.raises(UnsafeFileError, match="summary.json"):
        files.atomic_write(link, b"{}")
    assert link.is_symlink() and target.read_text() == SECRET
    assert [p.name for p in link.parent.iterdir()] == ["summary.json"]  # no temporary file left behind


def test_atomic_write_and_append_write_plain_files(tmp_path):
    path = tmp_path / "a" / "f.txt"
    files.atomic_write(path, "one\n")
    files.append_text(path, "two\n")
    files.atomic_write(path, lambda fh: fh.write(path.read_bytes() + b"three\n"))
    assert path.read_text() == "one\ntwo\nthree\n"


def test_append_refuses_a_link_swapped_in_after_the_check(tmp_path, target, monkeypatch):
    """O_NOFOLLOW closes the window between the check and the open."""
    link = _link(tmp_path / "metrics.jsonl", target)
    monkeypatch.setattr(files, "refuse_symlink", lambda path: path)  # the check misses the link...
    with pytest.raises(OSError):  # ...and the open itself refuses it
        files.open_for_append(link)
    assert target.read_text() == SECRET


def test_summary_json_link_is_refused(tmp_path, target):
    _link(tmp_path / "summary.json", target)
    with pytest.raises(UnsafeFileError):
        write_summary(tmp_path, {"status": "done"})
    assert target.read_text() == SECRET


def test_metrics_log_resume_refuses_a_linked_metrics_file(tmp_path, target):
    """The resume path reads, filters and rewrites metrics.jsonl: the target must not be truncated."""
    target.write_text(json.dumps({"kind": "epoch", "epoch": 5, "step": 99}) + "\n")
    before = target.read_text()
    link = _link(tmp_path / "metrics.jsonl", target)
    with pytest.raises(UnsafeFileError, match="metrics.jsonl"):
        MetricsLog(link).on_train_begin(SimpleNamespace(step=0, epoch=0))
    assert target.read_text() == before


def test_resuming_a_run_whose_metrics_file_is_a_link_is_refused(tmp_path, target):
    run = lamina.train(
        ROOT / "examples" / "digits_mlp.toml", out=tmp_path / "runs", progress="none", overrides=["train.epochs=1"]
    )
    metrics = run.dir / "metrics.jsonl"
    metrics.unlink()
    _link(metrics, target)
    with pytest.raises(UnsafeFileError, match="metrics.jsonl: is a symbolic link"):
        lamina.train(resume=run.dir, progress="none", overrides=["train.epochs=2"])
    assert target.read_text() == SECRET


def test_report_and_plots_refuse_links(tmp_path, target):
    from lamina.report.html import write_report
    from lamina.report.plots import plot_learning_curves

    _link(tmp_path / "report.html", target)
    with pytest.raises(UnsafeFileError):
        write_report(tmp_path, summary={"status": "done"}, config_text='name = "x"\n')
    plot = _link(tmp_path / "plots" / "loss.png", target)
    with pytest.raises(UnsafeFileError):
        plot_learning_curves([{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5}], tmp_path / "plots")
    assert target.read_text() == SECRET
    assert os.path.islink(plot)


@pytest.mark.parametrize(
    "fmt, name", [("torchscript", "m.torchscript.pt"), ("exported-program", "m.pt2"), ("safetensors", "m.safetensors")]
)
def test_export_refuses_to_write_through_a_link(tmp_path, target, fmt, name):
    from torch import nn

    from lamina.export import export
    from lamina.export.source import resolve_source

    link = _link(tmp_path / "export" / name, target)
    model = nn.Linear(3, 2) if fmt != "safetensors" else lamina.build_model([{"type": "dense", "units": 2}], (3,))
    source = model if fmt != "safetensors" else resolve_source(model, input_shape=(3,))
    with pytest.raises(UnsafeFileError):
        export(source, fmt, link, input_shape=(3,), verify=False)
    assert target.read_text() == SECRET


def test_atomic_write_sets_the_mode_asked_not_the_temporary_files(tmp_path):
    files.atomic_write(tmp_path / "report.html", "<html>")
    files.atomic_write(tmp_path / "last.pt", b"x", mode=0o600)
    assert (tmp_path / "report.html").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "last.pt").stat().st_mode & 0o777 == 0o600
