"""The plan format: YAML source with positions, schema, templates, expansion."""
