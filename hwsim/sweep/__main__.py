"""`python -m hwsim.sweep FILE -j N ...`: the same as `hwsim sweep`, without the rest of the CLI."""
import argparse
import sys

from hwsim.cli import run_handler
from hwsim.sweep.cli import add_sweep_commands


def main(argv=None) -> int:
    top = argparse.ArgumentParser(prog="python -m hwsim.sweep")
    add_sweep_commands(top.add_subparsers(dest="command", required=True))
    return run_handler(top.parse_args(["sweep", *(sys.argv[1:] if argv is None else argv)]), "hwsim sweep")


if __name__ == "__main__":
    sys.exit(main())
