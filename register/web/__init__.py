"""The register service: a FastAPI JSON API under /api/v1 and server-rendered pages."""
