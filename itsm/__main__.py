"""`python -m itsm`: the `itsm` command, where its script is not on the PATH."""

from itsm.cli import app

app(prog_name="itsm")
