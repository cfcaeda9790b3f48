"""Shared entry for commands whose implementation has not landed yet: a real --help, a clear exit otherwise."""

from __future__ import annotations

import argparse
import sys


def pending_main(prog: str, description: str, epilog: str, argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides (key=value, +key=value)")
    parser.parse_args(argv)
    print(f"{prog}: not available in this version yet (see the README's roadmap)", file=sys.stderr)
    return 2
