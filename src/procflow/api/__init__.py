"""HTTP edge: routes, request/response schemas, and the one error mapping."""
