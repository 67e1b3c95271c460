"""`python -m tools`: the ocplab command (bin/ocplab)."""

from tools.cli import main

main()
