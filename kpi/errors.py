"""The package's refusals, in the one exception tree (400 / exit 2)."""

from noc.core.errors import InputError


class ScopeError(InputError):
    """A scope that cannot be read."""
