"""Command line: /usr/bin/python3 tools/beacon-train/beacon-train COMMAND ... (see README.md)."""
from .cli import main

main()
