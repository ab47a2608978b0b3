"""hotline NOC: network operations and SLA service for the Lingshui 12345 hotline sub-platform."""

__version__ = "0.1.0"
