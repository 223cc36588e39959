"""Figures and the HTML run report."""

from lamina.report.grid import image_grid
from lamina.report.html import write_report
from lamina.report.plots import literal, metric_label, plot_learning_curves, plot_step_loss, save_figure

__all__ = [
    "image_grid",
    "literal",
    "metric_label",
    "plot_learning_curves",
    "plot_step_loss",
    "save_figure",
    "write_report",
]
