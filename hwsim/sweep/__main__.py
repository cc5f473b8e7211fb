"""`python -m hwsim.sweep FILE -j N ...`: the same as `hwsim sweep`, without the rest of the CLI."""
import argparse
import sys

from hwsim.config.errors import ConfigError
from hwsim.sweep.cli import add_sweep_commands


def main(argv=None) -> int:
    top = argparse.ArgumentParser(prog="python -m hwsim.sweep")
    add_sweep_commands(top.add_subparsers(dest="command", required=True))
    args = top.parse_args(["sweep", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.handler(args)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        print(f"hwsim sweep: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
