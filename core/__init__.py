"""The ground layer: what every other package reads and which imports nothing else of ours.

- :mod:`core.config`: the one configuration object and its types;
- :mod:`core.document`: the structured-text model every pipeline stage shares;
- :mod:`core.models`, :mod:`core.db`, ``core/migrations/``: the database tables, the engine and
  session factory (one per process and URL), and the Alembic migrations.
"""
