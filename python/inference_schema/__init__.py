"""Berth's implementation of the ``inference_schema`` package used by seed-system scoring scripts.

``schema_decorators.input_schema`` / ``output_schema`` with the parameter types in
``parameter_types`` both convert request fields to the sample's type and describe the
service's input and output as JSON Schema (for ``/swagger.json``). numpy and pandas are
imported only by the parameter types that need them.
"""
