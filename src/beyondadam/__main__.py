"""``python -m beyondadam`` runs the command line."""

from beyondadam.cli import main

main()
