"""Berth's stand-in for the ``azureml`` namespace (only what scoring scripts use).

The path is extended so that other ``azureml.*`` packages installed in the interpreter
(for instance ``azureml.monitoring``) stay importable beside Berth's ``azureml.core``.
"""
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
