"""``lamina hopfield capacity``: recall rate against load for the Hopfield memory's learning rules, as a table and
a PNG plot."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lamina import jsonio
from lamina.cli.app import LaminaTyper, app, console, fail, handle_errors

__all__ = ["hopfield_app", "capacity"]

hopfield_app = LaminaTyper(help="Hopfield associative memories: capacity experiments.", no_args_is_help=True)
app.add_typer(hopfield_app, name="hopfield")


def _loads(start: float, stop: float, step: float) -> list[float]:
    if step <= 0 or start <= 0 or stop < start:
        raise fail(
            f"loads must satisfy 0 < --load-min <= --load-max and --load-step > 0, got {start:g}, {stop:g}, {step:g}"
        )
    count = int(round((stop - start) / step)) + 1
    return [round(start + i * step, 10) for i in range(count) if start + i * step <= stop + 1e-9]


@hopfield_app.command()
@handle_errors
def capacity(
    n: Annotated[int, typer.Option("--n", "-n", help="Units N.")] = 200,
    rule: Annotated[list[str], typer.Option(help="A rule to measure (repeat): hebbian, pseudoinverse.")] = [
        "hebbian",
        "pseudoinverse",
    ],
    desaturation: Annotated[
        list[float],
        typer.Option(
            "--desaturation", "-k", help="Adds a pseudo-inverse curve with the diagonal scaled by k (repeat)."
        ),
    ] = [0.15],
    load_min: Annotated[float, typer.Option(help="Smallest load M/N.")] = 0.02,
    load_max: Annotated[float, typer.Option(help="Largest load M/N (pseudo-inverse curves stop at 1).")] = 1.0,
    load_step: Annotated[float, typer.Option(help="Step between loads.")] = 0.02,
    noise: Annotated[float, typer.Option(help="Fraction of each probe's bits flipped.")] = 0.1,
    trials: Annotated[int, typer.Option(help="Independent sets of random patterns.")] = 5,
    probes: Annotated[
        int | None,
        typer.Option(help="Probes per trial and load: a random subset of the stored patterns (0: all of them)."),
    ] = 50,
    stop_after_zero: Annotated[
        int,
        typer.Option(help="End a curve after this many loads in a row where nothing was recalled (0: run every load)."),
    ] = 2,
    mode: Annotated[str, typer.Option(help="async or sync dynamics.")] = "async",
    threshold: Annotated[float, typer.Option(help="Fraction of bits a recall must get right.")] = 0.99,
    level: Annotated[float, typer.Option(help="Capacity = the load where recall falls below this rate.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Seeds patterns, noise and update orders.")] = 0,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, ... (default cpu).")] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            help="CPU threads for torch (default 1: asynchronous recall is a loop of small steps, which extra threads "
            "slow down on a busy machine; 0 keeps torch's default)."
        ),
    ] = 1,
    out: Annotated[Path, typer.Option(help="The PNG plot to write.")] = Path("hopfield_capacity.png"),
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the curves as JSON.")] = None,
) -> None:
    """Measure recall rate against load M/N (probes: stored patterns with bits flipped; recalled when within
    1 - threshold of the pattern) for each rule, print the capacities beside theory and plot the curves."""
    import torch

    from lamina.memory import capacity_curve, plot_capacity

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)  # a process-wide choice, made by the command line, never by the library
    try:
        loads = _loads(load_min, load_max, load_step)
        runs = [(r, None) for r in rule] + [("pseudoinverse", k) for k in desaturation]
        curves, seconds = [], []
        for name, k in runs:
            use = [a for a in loads if a <= 1.0] if name == "pseudoinverse" else loads
            label = name if k is None else f"{name} k={k:g}"
            start = time.perf_counter()
            try:
                with console.status(f"{label}: N = {n}, {len(use)} loads, {trials} trials"):
                    curve = capacity_curve(
                        name,
                        n,
                        use,
                        noise,
                        trials,
                        desaturation=k,
                        mode=mode,
                        probes=probes or None,
                        threshold=threshold,
                        stop_after_zero=stop_after_zero or None,
                        seed=seed,
                        device=device,
                    )
            except ValueError as err:
                raise fail(str(err)) from None
            curves.append(curve)
            seconds.append(time.perf_counter() - start)

        summary = Table(
            "curve",
            f"capacity M/N (recall < {level:.0%})",
            "theory M/N",
            "seconds",
            title=f"Hopfield capacity: N = {n}, {noise:.0%} bits flipped, {trials} trials, {mode}",
        )
        for curve, took in zip(curves, seconds):
            found = curve.capacity(level)
            shown = f">= {curve.loads[-1]:g}" if found is None else f"{found:.3f}"
            theory = "-" if curve.theory is None else f"{curve.theory:g}"
            summary.add_row(curve.label, shown, theory, f"{took:.1f}")
        per_load = Table(
            "load M/N",
            *(c.label for c in curves),
            title="recall rate",
            caption="-: not run (the curve ended after loads where nothing was recalled)",
        )
        for i, load in enumerate(loads):
            cells = [f"{c.recall[i]:.3f}" if i < len(c.recall) else "-" for c in curves]
            per_load.add_row(f"{load:g}", *cells)
        console.print(per_load)
        console.print(summary)
        path = plot_capacity(curves, out, level=level)
        console.print(f"plot: {path}")
        if json_out is not None:
            json_out.write_text(jsonio.dumps([c.to_dict() for c in curves], indent=2) + "\n")
            console.print(f"curves: {json_out}")
    finally:
        torch.set_num_threads(previous)
