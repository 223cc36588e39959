"""``report.html``: one self-contained page per run (images embedded) with its status, final metrics, curves,
every other plot the run made, the model's layers with their parameter counts, and the resolved config."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from lamina import files, jsonio
from lamina.disk import disk_errors

__all__ = ["write_report"]

_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { padding: 0.25em 0.8em; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.figs { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; } figure img { max-width: 520px; }
figcaption { color: #666; font-size: 0.9em; text-align: center; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 13px; }
.status { display: inline-block; padding: 0.1em 0.6em; border-radius: 0.8em; color: white; font-weight: 600; }
.completed { background: #2a7; } .stopped { background: #27a; } .diverged, .failed, .disk_full { background: #c33; }
.running, .interrupted { background: #a72; } .meta { color: #555; }
"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return html.escape(str(value))


def _table(rows: list[list[Any]], header: list[str], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{_fmt(c)}</td>" if i >= numeric_from else f"<td>{_fmt(c)}</td>" for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    caption = html.escape(path.stem.replace("_", " "))
    return (
        f"<figure><img src='data:image/png;base64,{data}' alt='{caption}' title='{html.escape(path.name)}'>"
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _metrics_table(summary: dict[str, Any]) -> str:
    final = summary.get("final", {}) or {}
    test = summary.get("test", {}) or {}
    names = list(
        dict.fromkeys(
            [k for k in final if not k.startswith("val_") and k not in ("epoch", "time", "lr")]
            + [k[4:] for k in final if k.startswith("val_")]
            + list(test)
        )
    )
    rows = [[n, final.get(n, ""), final.get(f"val_{n}", ""), test.get(n, "")] for n in names]
    return _table(rows, ["metric", "training (last epoch)", "validation (last epoch)", "test"])


def _pretrain_section(pretrain: dict[str, Any]) -> str:
    """The greedy pretraining: its method and time, and a table of the layers with their last logged figures;
    anything else the method reported, as JSON."""
    layers = pretrain.get("layers") or []
    head = ", ".join(f"{k}: {_fmt(pretrain[k])}" for k in ("method", "seconds") if k in pretrain)
    parts = [f"<p class='meta'>{head}</p>"] if head else []
    if layers:
        columns = list(dict.fromkeys(k for layer in layers for k in layer))
        parts.append(_table([[layer.get(c, "") for c in columns] for layer in layers], columns))
    rest = {k: v for k, v in pretrain.items() if k not in ("method", "seconds", "layers", "figures")}
    if rest:
        parts.append(f"<pre>{html.escape(jsonio.dumps(rest, indent=2))}</pre>")
    return "".join(parts)


def write_report(
    run_dir: str | Path,
    *,
    summary: dict[str, Any],
    config_text: str,
    layers: list[dict[str, Any]] | None = None,
    curves: list[Path] = (),
    drawing: Path | None = None,
    title: str = "",
) -> Path:
    """Write ``run_dir/report.html``; every PNG under ``run_dir/plots`` is embedded (curves first, the model's
    ``drawing`` with its layer table)."""
    run_dir = Path(run_dir)
    plots = sorted((run_dir / "plots").glob("*.png")) if (run_dir / "plots").is_dir() else []
    curves = [Path(c) for c in curves]
    drawing = Path(drawing) if drawing is not None else None
    others = [p for p in plots if p not in curves and p != drawing]
    status = summary.get("status", "unknown")
    meta = ", ".join(
        f"{k}: {_fmt(summary[k])}"
        for k in ("device", "epochs", "steps", "wall_time_s", "parameters", "lamina_version", "started")
        if k in summary
    )
    parts = [
        f"<h1>{html.escape(title or run_dir.name)}</h1>",
        f"<p><span class='status {html.escape(status)}'>{html.escape(status)}</span> "
        f"<span class='meta'>{meta}</span></p>",
    ]
    if summary.get("message"):
        parts.append(f"<p>{html.escape(summary['message'])}</p>")
    parts += ["<h2>Final metrics</h2>", _metrics_table(summary)]
    if curves:
        parts += ["<h2>Learning curves</h2>", "<div class='figs'>" + "".join(_figure(p) for p in curves) + "</div>"]
    if others:
        parts += ["<h2>Figures</h2>", "<div class='figs'>" + "".join(_figure(p) for p in others) + "</div>"]
    if summary.get("pretrain"):
        parts += ["<h2>Pretraining</h2>", _pretrain_section(summary["pretrain"])]
    if layers:
        rows = [[r["name"], r["kind"], r["output_shape"], r["parameters"]] for r in layers]
        total = sum(r["parameters"] for r in layers)
        parts += [
            "<h2>Model</h2>",
            "<div class='figs'>" + _figure(drawing) + "</div>" if drawing is not None and drawing.is_file() else "",
            _table(rows + [["total", "", "", total]], ["layer", "type", "output shape", "parameters"], numeric_from=3),
        ]
    parts += ["<h2>Configuration</h2>", f"<pre>{html.escape(config_text)}</pre>"]
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title or run_dir.name)}"
        f"</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>"
    )
    path = run_dir / "report.html"
    with disk_errors(path):
        files.write_text(path, page)
    return path
