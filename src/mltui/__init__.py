"""mltui: a terminal dashboard for machine-learning container stacks."""

__version__ = "0.1.0"
