"""Request bodies (validated) and response shapes (documented in OpenAPI)."""
