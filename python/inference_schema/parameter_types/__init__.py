"""Parameter types: numpy, pandas and standard Python samples."""
