"""The commands behind ``duiding pool | check | render | diff``: each turns parsed
arguments into calls on the rooms and writes the result (JSON or text) to stdout.

This is the JSON edge of the package: results become dictionaries here and only here (and
in the report's manifest). Modules are imported per command, so ``duiding pool`` loads the
engine without pandas, matplotlib or papermill.
"""
