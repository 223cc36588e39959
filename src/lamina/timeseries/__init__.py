"""Time-series networks and tools: TDNN, Elman, NARX, windows, forecasting, NRMSE."""
__all__: list[str] = []
