"""Command line: python -m fastloss {demo,bench,config}."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m fastloss", description="fastloss command line tools."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="train small models with several losses and compare them"
    )
    from fastloss._cli import demo as _demo

    _demo.add_arguments(demo)
    bench = commands.add_parser(
        "bench", help="time every loss against its NumPy reference (and PyTorch if installed)"
    )
    from fastloss._cli import bench as _bench

    _bench.add_arguments(bench)
    commands.add_parser("config", help="print the build and runtime configuration")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo.run(args)
    if args.command == "bench":
        try:
            return _bench.run(args)
        except ValueError as exc:
            parser.error(str(exc))
    if args.command == "config":
        from fastloss import show_config

        show_config()
        return 0
    parser.error(f"unknown command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
