"""The ``claimwatch`` command line.

:mod:`claimwatch.cli.app` holds the click group and registers the commands, one module per area;
:mod:`claimwatch.cli.common` holds what they share (the context with the lazily loaded config and
the database session, error exits and exit codes). Every command is a thin shell over library
functions in the layers below.
"""

from claimwatch.cli.app import main

__all__ = ["main"]
