"""``azureml.core.model.Model`` as a scoring script sees it under Berth.

Only ``Model.get_model_path`` is provided. It resolves names against the models the
replica serves, which Berth passes in the ``BERTH_MODELS`` environment variable as JSON
``[{"name", "version", "path"}]`` (``path`` = the model's folder):

- a model NAME (optionally with ``version``) -> the model's single file when its folder
  holds exactly one file, else the folder (latest served version when ``version`` is None);
- otherwise a FILE name (or relative path) inside any served model: the seed system's
  example registers ``sklearn_regression_model.pkl`` and asks for it by that name.
"""
import json
import os

from azureml.exceptions import ModelNotFoundException

__all__ = ["Model"]


def _served_models():
    raw = os.environ.get("BERTH_MODELS", "[]")
    try:
        models = json.loads(raw)
    except ValueError:
        models = []
    # latest version first, so that a name without version resolves to the newest
    return sorted(models, key=lambda m: (m.get("name", ""), -int(m.get("version", 0))))


def _files_of(folder):
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            found.append(os.path.join(root, name))
    return found


def _model_path(model):
    folder = model["path"]
    if os.path.isfile(folder):
        return folder
    files = _files_of(folder)
    return files[0] if len(files) == 1 else folder


def _describe(models):
    if not models:
        return "none"
    return ", ".join("%s:%s" % (m["name"], m["version"]) for m in models)


class Model(object):
    """The registered-model handle of the seed system, reduced to what scoring scripts call."""

    def __init__(self, workspace=None, name=None, id=None, tags=None, properties=None, version=None):
        self.workspace = workspace
        self.name = name
        self.id = id
        self.version = version
        self.tags = tags or {}
        self.properties = properties or {}

    @staticmethod
    def get_model_path(model_name, version=None, _workspace=None):
        """Absolute path of a served model's file or folder (see the module docstring).

        :raises ModelNotFoundException: no served model, version or file matches.
        """
        models = _served_models()
        wanted_version = None if version is None else int(version)
        by_name = [m for m in models if m.get("name") == model_name]
        if by_name:
            if wanted_version is None:
                return _model_path(by_name[0])
            for m in by_name:
                if int(m.get("version", 0)) == wanted_version:
                    return _model_path(m)
            raise ModelNotFoundException(
                'Model "%s" version %s is not served here (served: %s). '
                "Serve that version, or call get_model_path without version." % (model_name, version, _describe(by_name))
            )
        relative = model_name.replace("\\", "/").strip("/")
        for m in models:
            if wanted_version is not None and int(m.get("version", 0)) != wanted_version:
                continue
            folder = m["path"]
            if os.path.isfile(folder):
                if os.path.basename(folder) == relative:
                    return folder
                continue
            candidate = os.path.join(folder, relative)
            if os.path.exists(candidate):
                return candidate
            for path in _files_of(folder):
                if os.path.basename(path) == relative:
                    return path
        raise ModelNotFoundException(
            'Model "%s" not found: no served model has that name, nor a file of that name (served: %s). '
            "Serve it (berth serve --model NAME:VERSION or --model-dir DIR) or use one of the served names."
            % (model_name, _describe(models))
        )
