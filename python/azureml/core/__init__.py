"""Berth's ``azureml.core``: only ``Model`` (``Model.get_model_path``) is provided."""
from azureml.core.model import Model

__all__ = ["Model"]
