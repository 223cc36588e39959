"""lamina's version, in a module of its own so that the modules that record it (checkpoints, run summaries, export
metadata) need not import the package's ``__init__``."""

__version__ = "0.1.0"
