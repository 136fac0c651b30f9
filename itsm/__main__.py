"""`python -m itsm`: the `itsm` command, where its script is not on the PATH."""

from itsm.cli import app

if __name__ == "__main__":  # not when `serve --workers N` spawns its processes, which import this module again
    app(prog_name="itsm")
