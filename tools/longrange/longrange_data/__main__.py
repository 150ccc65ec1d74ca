"""Command line: tools/longrange/longrange COMMAND ... (see README.md)."""
from .cli import main

main()
