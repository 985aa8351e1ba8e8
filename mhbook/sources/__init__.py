"""Source parsers: one module per publisher, each returning tidy, schema-checked tables."""
