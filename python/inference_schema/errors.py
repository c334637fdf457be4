"""Errors of Berth's inference_schema."""


class InputConversionError(ValueError):
    """A request field could not be converted to its declared parameter type (a 400 for the client)."""
