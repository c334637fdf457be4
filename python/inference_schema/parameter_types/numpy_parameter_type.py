"""``NumpyParameterType(sample)``: request lists become numpy arrays of the sample's dtype and shape."""
import numpy as np

from inference_schema.parameter_types._swagger import dtype_to_swagger, nest_array, to_jsonable
from inference_schema.parameter_types.abstract_parameter_type import AbstractParameterType

__all__ = ["NumpyParameterType"]


class NumpyParameterType(AbstractParameterType):
    """A numpy array parameter. On conversion the sample's dtype is applied (``enforce_column_type``)
    and every dimension but the first must match the sample's (``enforce_shape``), as in the seed system."""

    def __init__(self, sample_input, enforce_column_type=True, enforce_shape=True):
        if not isinstance(sample_input, np.ndarray):
            raise TypeError("NumpyParameterType needs a numpy array sample, got %s" % type(sample_input).__name__)
        super(NumpyParameterType, self).__init__(sample_input)
        self.enforce_column_type = enforce_column_type
        self.enforce_shape = enforce_shape

    def deserialize_input(self, input_data):
        if isinstance(input_data, np.ndarray):
            return input_data
        if not isinstance(input_data, list):
            raise ValueError("expected an array, got %s" % type(input_data).__name__)
        dtype = self.sample_input.dtype
        if self.enforce_column_type:
            if dtype.names:
                input_data = [self._as_record(row, dtype) for row in input_data]
            array = np.array(input_data, dtype=dtype)
        else:
            array = np.array(input_data)
        if self.enforce_shape:
            expected = self.sample_input.shape
            if array.ndim != len(expected):
                raise ValueError(
                    "expected an array with %d dimensions, got %d (shape %s)" % (len(expected), array.ndim, array.shape)
                )
            for dim in range(1, len(expected)):
                if array.shape[dim] != expected[dim]:
                    raise ValueError(
                        "expected size %d on dimension %d, got %d (shape %s)"
                        % (expected[dim], dim, array.shape[dim], array.shape)
                    )
        return array

    @staticmethod
    def _as_record(row, dtype):
        if isinstance(row, dict):
            return tuple(row[name] for name in dtype.names)
        return tuple(row)

    def input_to_swagger(self):
        sample = self.sample_input
        schema = nest_array(dtype_to_swagger(sample.dtype), sample.ndim)
        schema = dict(schema)
        schema["example"] = to_jsonable(sample.tolist())
        return schema
