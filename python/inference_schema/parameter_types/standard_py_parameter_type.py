"""``StandardPythonParameterType(sample)``: plain Python values (numbers, strings, lists, dicts),
possibly nesting other parameter types inside lists and dicts."""
import datetime

from inference_schema.parameter_types._swagger import to_jsonable
from inference_schema.parameter_types.abstract_parameter_type import AbstractParameterType

__all__ = ["StandardPythonParameterType"]


def _swagger_of(value):
    if isinstance(value, AbstractParameterType):
        return value.input_to_swagger()
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):  # any number is accepted and kept (see _swagger)
        return {"type": "number", "format": "int64"}
    if isinstance(value, float):
        return {"type": "number", "format": "double"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, datetime.datetime):
        return {"type": "string", "format": "date-time"}
    if isinstance(value, datetime.date):
        return {"type": "string", "format": "date"}
    if isinstance(value, datetime.time):
        return {"type": "string", "format": "time"}
    if isinstance(value, (bytes, bytearray)):
        return {"type": "string"}
    if isinstance(value, (list, tuple)):
        return {"type": "array", "items": _swagger_of(value[0]) if value else {}}
    if isinstance(value, dict):
        return {"type": "object", "properties": {str(k): _swagger_of(v) for k, v in value.items()}}
    return {}


def _type_name(value):
    return type(value).__name__


def _convert(sample, value):
    if isinstance(sample, AbstractParameterType):
        return sample.deserialize_input(value)
    if isinstance(sample, bool):
        if not isinstance(value, bool):
            raise ValueError("expected a boolean, got %s" % _type_name(value))
        return value
    if isinstance(sample, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("expected a number, got %s" % _type_name(value))
        return float(value)
    if isinstance(sample, int):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("expected an integer, got %s" % _type_name(value))
        return value
    if isinstance(sample, datetime.datetime):
        return datetime.datetime.fromisoformat(value)
    if isinstance(sample, datetime.date):
        return datetime.date.fromisoformat(value)
    if isinstance(sample, datetime.time):
        return datetime.time.fromisoformat(value)
    if isinstance(sample, str):
        if not isinstance(value, str):
            raise ValueError("expected a string, got %s" % _type_name(value))
        return value
    if isinstance(sample, (list, tuple)):
        if not isinstance(value, list):
            raise ValueError("expected an array, got %s" % _type_name(value))
        if sample and isinstance(sample[0], AbstractParameterType):
            value = [sample[0].deserialize_input(item) for item in value]
        return tuple(value) if isinstance(sample, tuple) else value
    if isinstance(sample, dict):
        if not isinstance(value, dict):
            raise ValueError("expected an object, got %s" % _type_name(value))
        out = dict(value)
        for key, sub in sample.items():
            if key in out and isinstance(sub, AbstractParameterType):
                out[key] = sub.deserialize_input(out[key])
        return out
    return value


class StandardPythonParameterType(AbstractParameterType):
    """A parameter whose type is that of a plain Python sample value."""

    def deserialize_input(self, input_data):
        return _convert(self.sample_input, input_data)

    def input_to_swagger(self):
        schema = dict(_swagger_of(self.sample_input))
        schema["example"] = to_jsonable(self.sample_input)
        return schema
