"""`python -m tradewarden` runs the CLI."""

from tradewarden.cli.main import main

main()
