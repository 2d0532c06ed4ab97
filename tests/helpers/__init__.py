"""What test modules share: plain functions, constants and a few fixtures (imported by name)."""
