"""Tables, the engine, migrations and the named queries; the only package that speaks SQL."""
