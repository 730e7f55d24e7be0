"""Commands for sim (filled in by its issue)."""

COMMANDS: list = []
