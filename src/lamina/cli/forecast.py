"""``lamina forecast RUN``: a closed-loop forecast from a run trained on a series dataset, after the dataset's own
series or after a series read from a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lamina.cli.app import app, console, fail, handle_errors
from lamina.errors import DataError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["forecast_command"]


def _history_from_csv(
    path: Path, column: str, exogenous: list[str]
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The series (rows with a value), and the exogenous columns split into those rows and the trailing rows whose
    series value is empty (the known future inputs)."""
    import numpy as np

    from lamina.data.series import read_csv_columns

    columns = read_csv_columns(path, [column, *exogenous])
    values = columns[column]
    present = np.flatnonzero(~np.isnan(values))
    if not len(present):
        raise DataError(f"{path}: column {column!r} holds no values")
    end = present[-1] + 1  # rows after the last value are the future
    if not exogenous:
        return values[:end], None, None
    u = np.column_stack([columns[c] for c in exogenous])
    return values[:end], u[:end], u[end:]


@app.command("forecast")
@handle_errors
def forecast_command(
    run: Annotated[Path, typer.Argument(help="A run folder trained on a series dataset.")],
    steps: Annotated[int, typer.Option(help="Values to forecast.")] = 10,
    series: Annotated[
        Path | None,
        typer.Option(
            help="A CSV file holding the history (default: the dataset's "
            "own series). Exogenous inputs of the future go in the "
            "rows after the last series value."
        ),
    ] = None,
    column: Annotated[str | None, typer.Option(help="The series' column in --series (default: the dataset's).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the forecast to a .csv file.")] = None,
) -> None:
    """Forecast the next STEPS values closed-loop: each prediction is fed back as the newest lag."""
    if steps < 1:
        raise fail(f"--steps must be a positive integer, got {steps}")
    import numpy as np

    from lamina.timeseries import forecast
    from lamina.timeseries.datasets import SeriesDatasetSpec
    from lamina.train.runs import Run

    opened = Run.open(run)
    spec = opened.experiment.data
    if not isinstance(spec, SeriesDatasetSpec):
        raise fail(
            f"{run}: trained on {spec.registered_name!r}, not a series dataset; forecasting needs [data] "
            'name = "sunspots", "mackey_glass" or "csv_series"'
        )
    prepared = spec.prepare()  # the scalers fitted on the training period, and the window
    exogenous_names = list(getattr(spec, "exogenous", []) or [])
    if series is not None:
        name = column or getattr(spec, "column", None)
        if name is None:
            raise fail("--column is needed to read --series for this dataset")
        history, past_u, future_u = _history_from_csv(series, name, exogenous_names)
        start_time = None
    else:
        history, past_u, future_u = prepared.data.values, prepared.data.exogenous, None
        start_time = prepared.data.time[-1]
    values = forecast(
        opened.model,
        history,
        steps,
        window=prepared.window,
        scaler=prepared.scaler,
        exogenous_scaler=prepared.exogenous_scaler,
        **({"exogenous": past_u, "future_exogenous": future_u} if exogenous_names else {}),
    )
    step_size = (prepared.data.time[1] - prepared.data.time[0]) if len(prepared.data.time) > 1 else 1
    times = (
        start_time + step_size * np.arange(1, steps + 1)
        if start_time is not None
        else np.arange(len(history), len(history) + steps)
    )
    table = Table(prepared.data.time_label if start_time is not None else "row", "forecast")
    for t, v in zip(times, values):
        table.add_row(f"{t:g}", f"{v:.6g}")
    console.print(table)
    if out is not None:
        if out.suffix != ".csv":
            raise fail(f"--out {out}: use a .csv file name")
        np.savetxt(
            out, np.column_stack([times, values]), delimiter=",", header="time,forecast", comments="", fmt="%.8g"
        )
        console.print(f"wrote {out}")
