"""Base class of the parameter types."""


class AbstractParameterType(object):
    """A sample value that defines a parameter's type: converts request data and describes it as JSON Schema."""

    def __init__(self, sample_input):
        self.sample_input = sample_input

    def supported_versions(self):
        return ["2.0", "3.0", "3.1"]

    def deserialize_input(self, input_data):
        """Converts the JSON-decoded request value to the declared type; raises ValueError when it cannot."""
        raise NotImplementedError

    def input_to_swagger(self):
        """JSON Schema (OpenAPI flavour, with ``example``) of values of this type."""
        raise NotImplementedError
