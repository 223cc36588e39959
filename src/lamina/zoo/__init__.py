"""The model zoo: named, versioned classic models with their recipes, their figures and sha256-checked weights files.

::

    lamina zoo list
    lamina zoo build lenet5        # trains examples/lenet5.toml's recipe, records the file's sha256 and test error
    lamina zoo load lenet5         # checks the sha256, loads it and reproduces the recorded figure

In Python: ``lamina.zoo.build("lenet5")``, ``model = lamina.zoo.load_model("lenet5")``.
"""

from lamina.zoo.api import Built, build, figure_of, load_model
from lamina.zoo.catalog import CATALOG, ZooEntry, entry
from lamina.zoo.store import read_index, zoo_home

__all__ = ["CATALOG", "Built", "ZooEntry", "build", "entry", "figure_of", "load_model", "read_index", "zoo_home"]
