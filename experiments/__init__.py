"""Experiments on the notebook: run each as a module from the repository root, e.g. `python -m experiments.seeds`."""
