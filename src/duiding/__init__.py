"""duiding: evidence assessments for Zorginstituut Nederland."""

__version__ = "0.1.0"
