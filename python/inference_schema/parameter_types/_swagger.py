"""JSON Schema (OpenAPI flavour) of numpy dtypes and plain Python values, without importing numpy.

Integer types are described as ``{"type": "number", "format": "int64"}``: as in the seed system,
a request may send any number where the sample has integers (numpy converts it to the sample's
dtype), so Berth's request validation must not reject ``1.0``; the format keeps the dtype visible.
"""
import datetime
import decimal
import math


def dtype_to_swagger(dtype):
    """Schema of one element of a numpy dtype (structured dtypes become objects)."""
    if dtype.names:
        return {
            "type": "object",
            "properties": {name: dtype_to_swagger(dtype.fields[name][0]) for name in dtype.names},
        }
    kind = dtype.kind
    if kind == "b":
        return {"type": "boolean"}
    if kind == "i":
        return {"type": "number", "format": "int64" if dtype.itemsize >= 8 else "int32"}
    if kind == "u":
        return {"type": "number", "format": "int64" if dtype.itemsize >= 4 else "int32", "minimum": 0}
    if kind == "f":
        return {"type": "number", "format": "double" if dtype.itemsize >= 8 else "float"}
    if kind == "M":
        return {"type": "string", "format": "date-time"}
    if kind in ("m", "U", "S"):
        return {"type": "string"}
    return {}


def nest_array(item_schema, dims):
    """Wraps ``item_schema`` in ``dims`` levels of arrays."""
    schema = item_schema
    for _ in range(dims):
        schema = {"type": "array", "items": schema}
    return schema


def to_jsonable(value):
    """A JSON-ready copy of a sample (numpy/pandas values, dates, decimals; NaN -> None)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return "%s seconds" % value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    sample = getattr(value, "sample_input", None)  # a nested parameter type
    if sample is not None and hasattr(value, "input_to_swagger"):
        return to_jsonable(value.input_to_swagger().get("example"))
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # pandas DataFrame
        return to_jsonable(value.to_dict(orient="records"))
    if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas Series
        return to_jsonable(value.tolist())
    return str(value)
