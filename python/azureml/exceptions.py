"""Exceptions raised by Berth's ``azureml`` compatibility modules."""


class AzureMLException(Exception):
    """Base class, as in the seed system's SDK."""


class ModelNotFoundException(AzureMLException):
    """``Model.get_model_path`` found no served model (or file) with that name."""


class WebserviceException(AzureMLException):
    """Kept for scripts that catch it."""
