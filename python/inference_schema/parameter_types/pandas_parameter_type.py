"""``PandasParameterType(sample)``: request records become a DataFrame with the sample's columns and dtypes."""
import pandas as pd

from inference_schema.parameter_types._swagger import dtype_to_swagger, to_jsonable
from inference_schema.parameter_types.abstract_parameter_type import AbstractParameterType

__all__ = ["PandasParameterType"]

_ORIENTS = ("records", "split", "columns", "values")


def _column_swagger(series):
    schema = dtype_to_swagger(series.dtype)
    if not schema and series.dtype.kind == "O" and len(series) and all(isinstance(v, str) for v in series):
        return {"type": "string"}
    return schema


class PandasParameterType(AbstractParameterType):
    """A DataFrame parameter. ``orient`` is how the request lays it out: ``records`` (default: a list of
    objects), ``split`` ({columns, index, data}), ``columns`` ({column: values}) or ``values`` (a list of rows)."""

    def __init__(self, sample_input, enforce_column_type=True, enforce_shape=True, apply_column_names=False,
                 orient="records"):
        if not isinstance(sample_input, pd.DataFrame):
            raise TypeError("PandasParameterType needs a pandas DataFrame sample, got %s" % type(sample_input).__name__)
        if orient not in _ORIENTS:
            raise ValueError("PandasParameterType: orient %r is not supported by Berth (use one of %s)"
                             % (orient, ", ".join(_ORIENTS)))
        super(PandasParameterType, self).__init__(sample_input)
        self.enforce_column_type = enforce_column_type
        self.enforce_shape = enforce_shape
        self.apply_column_names = apply_column_names
        self.orient = orient

    def deserialize_input(self, input_data):
        if isinstance(input_data, pd.DataFrame):
            return input_data
        columns = list(self.sample_input.columns)
        if isinstance(input_data, dict) and "data" in input_data and "columns" in input_data:
            frame = pd.DataFrame(input_data["data"], columns=input_data["columns"], index=input_data.get("index"))
        elif isinstance(input_data, dict):
            frame = pd.DataFrame(input_data)
        elif isinstance(input_data, list) and all(isinstance(row, dict) for row in input_data):
            frame = pd.DataFrame.from_records(input_data)
        elif isinstance(input_data, list):
            if input_data and len(input_data[0]) != len(columns):
                raise ValueError("expected rows of %d values, got %d" % (len(columns), len(input_data[0])))
            frame = pd.DataFrame(input_data, columns=columns)
        else:
            raise ValueError("expected records (an array of objects), got %s" % type(input_data).__name__)
        if self.enforce_shape:
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ValueError("missing column(s) %s" % ", ".join(str(c) for c in missing))
            frame = frame[columns]
        if self.enforce_column_type:
            for column in columns:
                if column in frame.columns:
                    frame[column] = frame[column].astype(self.sample_input[column].dtype)
        return frame

    def input_to_swagger(self):
        sample = self.sample_input
        row = {"type": "object", "properties": {str(c): _column_swagger(sample[c]) for c in sample.columns}}
        if self.orient == "records":
            schema = {"type": "array", "items": row}
            example = sample.to_dict(orient="records")
        elif self.orient == "values":
            schema = {"type": "array", "items": {"type": "array", "items": {}}}
            example = sample.values.tolist()
        elif self.orient == "split":
            schema = {
                "type": "object",
                "properties": {
                    "columns": {"type": "array", "items": {"type": "string"}},
                    "index": {"type": "array", "items": {}},
                    "data": {"type": "array", "items": {"type": "array", "items": {}}},
                },
                "required": ["columns", "data"],
            }
            example = sample.to_dict(orient="split")
        else:
            schema = {
                "type": "object",
                "properties": {str(c): {"type": "array", "items": _column_swagger(sample[c])} for c in sample.columns},
            }
            example = sample.to_dict(orient="list")
        schema["example"] = to_jsonable(example)
        return schema
