"""Figures and the HTML run report."""

from lamina.report.html import write_report
from lamina.report.plots import literal, metric_label, plot_learning_curves, plot_step_loss, save_figure

__all__ = ["literal", "metric_label", "plot_learning_curves", "plot_step_loss", "save_figure", "write_report"]
