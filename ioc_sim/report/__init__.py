"""One HTML file from a theory test (and validation) folder."""
