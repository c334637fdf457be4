"""Reports, in one interpreter call, which packages of a conda file this interpreter can import.

Usage: python berth_env_check.py '<json: [{"name": dist, "imports": [module, ...]}, ...]>'
Prints one JSON line: {"python": "3.11.2", "executable", "prefix", "missing": [dist...],
"installed": {dist: version}}. Nothing is imported: distributions are looked up by their
metadata and modules with find_spec (top-level names only), so the check stays fast.
"""
import importlib.metadata
import importlib.util
import json
import platform
import sys


def _installed_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    except Exception:
        return None


def _importable(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def main():
    wanted = json.loads(sys.argv[1]) if len(sys.argv) > 1 else []
    missing = []
    installed = {}
    for item in wanted:
        name = item["name"]
        version = _installed_version(name)
        if version is not None:
            installed[name] = version
            continue
        if any(_importable(module) for module in item.get("imports", [])):
            installed[name] = None
            continue
        missing.append(name)
    print(json.dumps({
        "python": platform.python_version(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "missing": missing,
        "installed": installed,
    }))


if __name__ == "__main__":
    main()
