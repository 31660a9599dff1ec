"""Project scripts: generated docs (state and layer diagrams), system packages for make test."""
