//! The SQLite archive: schema, migrations and typed queries.
