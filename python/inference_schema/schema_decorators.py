"""``input_schema`` and ``output_schema`` decorators (the seed system's inference_schema API).

The decorated function carries the declared parameter types in ``__berth_input_params__``
(name -> (param_type, convert, optional)) and ``__berth_output_type__``; Berth's worker
reads them to call ``run(**json_body)`` and to publish the JSON Schemas.
"""
import functools
import inspect

from inference_schema.errors import InputConversionError
from inference_schema.parameter_types.abstract_parameter_type import AbstractParameterType

INPUT_PARAMS_ATTR = "__berth_input_params__"
OUTPUT_TYPE_ATTR = "__berth_output_type__"

__all__ = ["input_schema", "output_schema"]


def _innermost(func):
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
    return func


def _check_param_type(param_type, where):
    if not isinstance(param_type, AbstractParameterType):
        raise TypeError(
            "%s: expected a parameter type (NumpyParameterType, PandasParameterType or "
            "StandardPythonParameterType), got %s" % (where, type(param_type).__name__)
        )


def _convert(param_type, value, param_name):
    try:
        return param_type.deserialize_input(value)
    except InputConversionError:
        raise
    except Exception as exc:  # any failure to build the declared type is the client's input
        raise InputConversionError('Invalid value for "%s": %s' % (param_name, exc)) from exc


def input_schema(param_name, param_type, convert_to_provided_type=True, optional=False):
    """Declares the type of one parameter of ``run``; converts the request field before the call."""
    _check_param_type(param_type, "input_schema(%r)" % (param_name,))

    def decorator(func):
        target = _innermost(func)
        parameters = inspect.signature(target).parameters
        takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        if param_name not in parameters and not takes_kwargs:
            raise ValueError(
                'input_schema: "%s" is not a parameter of %s%s'
                % (param_name, target.__name__, inspect.signature(target))
            )
        names = list(parameters)
        position = names.index(param_name) if param_name in names else len(names) + 1

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if convert_to_provided_type:
                if param_name in kwargs:
                    kwargs[param_name] = _convert(param_type, kwargs[param_name], param_name)
                elif position < len(args):
                    args = list(args)
                    args[position] = _convert(param_type, args[position], param_name)
            return func(*args, **kwargs)

        params = dict(getattr(func, INPUT_PARAMS_ATTR, {}))
        params[param_name] = (param_type, convert_to_provided_type, optional)
        setattr(wrapper, INPUT_PARAMS_ATTR, params)
        return wrapper

    return decorator


def output_schema(output_type):
    """Declares the type of ``run``'s result (for the schema only: the result is not converted)."""
    _check_param_type(output_type, "output_schema")

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)

        setattr(wrapper, OUTPUT_TYPE_ATTR, output_type)
        return wrapper

    return decorator


def get_input_params(func):
    """Declared input parameters of a decorated function, in the function's signature order."""
    params = getattr(func, INPUT_PARAMS_ATTR, None)
    if not params:
        return []
    order = list(inspect.signature(_innermost(func)).parameters)
    return sorted(params.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))


def get_input_schema(func):
    """JSON Schema of the request body (an object with one field per declared parameter), or None."""
    params = get_input_params(func)
    if not params:
        return None
    properties = {}
    example = {}
    required = []
    for name, (param_type, _convert_flag, optional) in params:
        schema = param_type.input_to_swagger()
        properties[name] = schema
        if "example" in schema:
            example[name] = schema["example"]
        if not optional:
            required.append(name)
    result = {"type": "object", "properties": properties}
    if required:
        result["required"] = required
    if example:
        result["example"] = example
    return result


def get_output_schema(func):
    """JSON Schema of run's result, or None."""
    output_type = getattr(func, OUTPUT_TYPE_ATTR, None)
    return None if output_type is None else output_type.input_to_swagger()
