"""Database layer: SQLAlchemy models, engines/sessions, repository functions and the prestart migrator."""
