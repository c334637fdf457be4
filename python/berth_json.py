"""Serializes what a scoring script's ``run`` returns to JSON bytes.

numpy arrays and scalars, pandas DataFrames (as records) and Series, dates, decimals, sets
and tuples are converted; NaN and infinities become null (JSON has no such numbers).
numpy/pandas are never imported here: a value can only be theirs if the script imported them.
"""
import datetime
import decimal
import json
import math
import sys

_dumps_strict = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _default(value):
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(value, pd.DataFrame):
            return value.to_dict(orient="records")
        if isinstance(value, (pd.Series, pd.Index)):
            return value.tolist()
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


def _without_nan(value):
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_nan(v) for v in value]
    return value


def _plain(value):
    """Recursively replaces non-JSON values by their JSON form (used on the slow path only)."""
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return _plain(_default(value))


def to_json_bytes(value):
    """JSON (UTF-8 bytes) of ``value``; raises TypeError for values that have no JSON form."""
    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_default)
    try:
        return encoder.encode(value).encode("utf-8")
    except ValueError:  # NaN / Infinity somewhere (allow_nan=False)
        return _dumps_strict.encode(_without_nan(_plain(value))).encode("utf-8")
