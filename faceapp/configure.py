"""``faceapp-config`` (``python -m faceapp.configure``): the settings that persist, and which
model runs and why.

    faceapp-config                        show them
    faceapp-config set security high      1 stranger in 10,000 (see docs/accuracy.md)
    faceapp-config set model shipped      back to the model shipped with faceapp
    faceapp-config unset camera

A thin command over :mod:`faceapp.config`; settings live in ``<data root>/settings.json``.
"""

from __future__ import annotations

import argparse
import sys

from faceapp.config import HELP, KEYS, load_config, save_setting
from faceapp.errors import FaceappError, OneLineParser, cli_guard
from faceapp.options import data_root_flag
from faceapp.paths import DataRoot

PROG = "faceapp-config"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        parents=[data_root_flag()],
        description="Show or change the settings the window and the commands use when no "
        "flag says otherwise.",
        epilog="settings:\n" + "\n".join(f"  {k:<9} {HELP[k]}" for k in KEYS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", nargs="?", choices=("show", "set", "unset"), default="show")
    parser.add_argument("key", nargs="?", choices=KEYS, help="the setting")
    parser.add_argument("value", nargs="?", help="its value (set)")
    return parser


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root = DataRoot.resolve(args.data_root).ensure()
    if args.action == "set":
        if args.key is None or args.value is None:
            raise FaceappError("set needs a setting and a value, e.g. set security high")
        if args.key == "model":
            from faceapp.models.files import USE_SHIPPED, files_of

            if args.value != USE_SHIPPED:
                files_of(args.value)  # a bad file is refused now, not at the next start
        save_setting(root, args.key, args.value)
        print(f"{args.key} = {args.value}")
        return 0
    if args.action == "unset":
        if args.key is None:
            raise FaceappError("unset needs a setting, e.g. unset model")
        save_setting(root, args.key, None)
        print(f"{args.key} unset: the default applies")
        return 0
    saved = load_config(root)
    for key in KEYS:
        value = getattr(saved, key)
        print(f"{key:<9} {value if value is not None else '(default)'}")
    from faceapp.models.files import choose_model

    model = choose_model(root, saved=saved.model)
    print(f"the model that runs: {model.describe()}" + (f" ({model.why})" if model.why else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
