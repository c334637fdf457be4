"""Makes ``from sklearn.externals import joblib`` work on scikit-learn >= 0.23 (which removed it).

A meta-path finder placed LAST on ``sys.meta_path`` answers only for ``sklearn.externals.joblib``
(and its submodules, which old pickles name) and only when no other finder did, so an old
scikit-learn that still ships the module keeps its own. The real sklearn package is untouched.
"""
import importlib
import importlib.abc
import importlib.util
import sys

_PREFIX = "sklearn.externals.joblib"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class SklearnExternalsJoblibFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != _PREFIX and not fullname.startswith(_PREFIX + "."):
            return None
        real = "joblib" + fullname[len(_PREFIX):]
        if importlib.util.find_spec(real.split(".")[0]) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real))


def install():
    """Registers the finder once."""
    if not any(isinstance(f, SklearnExternalsJoblibFinder) for f in sys.meta_path):
        sys.meta_path.append(SklearnExternalsJoblibFinder())
