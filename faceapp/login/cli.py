"""``faceapp-login`` (``python -m faceapp.login``): set up logging in with your face, as root.

    sudo faceapp-login enrol --user ann --camera 0        # or photos, a folder, a video
    sudo faceapp-login test --user ann                    # the decision, without logging in
    sudo faceapp-login pam install --service sudo         # then: sudo asks for ann's face
    sudo faceapp-login pam uninstall --service sudo       # back exactly as it was

Also ``list``, ``remove``, ``disable`` / ``enable`` (a user's face login), ``reset`` (forgive
a user's recent failures). Settings: ``/etc/faceapp/login.toml`` (``--config``);
:mod:`faceapp.login.config` lists them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from faceapp.errors import EXIT_ERROR, FaceappError, OneLineParser, cli_guard
from faceapp.login.config import DEFAULT_PATH, load_login_config

PROG = "faceapp-login"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="Log in with your face: enrol system users' faces (kept by root), test "
        "the check, and put it in front of a PAM service's password. Run as root.",
        epilog=__doc__.split("\n\n")[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        default=str(DEFAULT_PATH),
        metavar="FILE",
        help=f"the login's settings (default: {DEFAULT_PATH})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    user = OneLineParser(add_help=False)
    user.add_argument("--user", required=True, help="the system user")
    enrol = commands.add_parser("enrol", parents=[user], help="enrol a user's face")
    enrol.add_argument("images", nargs="*", metavar="IMAGE", help="photos, folders or videos")
    enrol.add_argument("--camera", metavar="SRC", help="enrol from a camera (or a video file)")
    enrol.add_argument("--force", action="store_true", help="keep faces refused for quality")
    commands.add_parser("list", help="users with enrolled faces, and their state")
    remove = commands.add_parser("remove", parents=[user], help="remove enrolled faces")
    remove.add_argument("face", nargs="?", help="one face's name (default: all of the user's)")
    commands.add_parser("test", parents=[user], help="the face check, without logging in")
    commands.add_parser("disable", parents=[user], help="turn a user's face login off")
    commands.add_parser("enable", parents=[user], help="turn it back on")
    commands.add_parser("reset", parents=[user], help="forgive a user's recent failures")
    pam = commands.add_parser("pam", help="install or uninstall the PAM lines")
    pam.add_argument("action", choices=("install", "uninstall"))
    pam.add_argument("--service", default="sudo", help="the PAM service (default: sudo)")
    pam.add_argument("--name", default="faceapp", help="the face check's PAM file name")
    pam.add_argument("--pam-dir", default="/etc/pam.d", metavar="DIR", help=argparse.SUPPRESS)
    return parser


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if os.geteuid() != 0:
        raise FaceappError(f"faceapp-login needs root: sudo faceapp-login {args.command} ...")
    config = load_login_config(args.config)
    from faceapp.login.store import UserStore

    if args.command == "pam":
        from faceapp.login import pam

        if args.action == "install":
            target = pam.install(
                args.service,
                Path(args.config),
                config.timeout,
                args.name,
                Path(args.pam_dir),
                config.store / pam.BACKUP_FOLDER,
            )
            print(f"{target} now asks for a face first (the password follows if it fails)")
        else:
            target = pam.uninstall(
                args.service, args.name, Path(args.pam_dir), config.store / pam.BACKUP_FOLDER
            )
            print(f"{target} is back as it was")
        return 0
    if args.command == "list":
        return list_users(config)
    store = UserStore(config.store, args.user)
    if args.command == "enrol":
        return enrol(store, args)
    if args.command == "test":
        return test(args, store)
    store.check_private()
    if args.command == "remove":
        from faceapp.verification import enrolment

        if args.face:
            print(f"removed {enrolment.remove(store.data_root, args.face).describe()}")
        else:
            print(f"removed {enrolment.clear(store.data_root)} face(s) of {store.user}")
    elif args.command in ("disable", "enable"):
        store.set_disabled(args.command == "disable")
        print(f"face login {args.command}d for {store.user}")
    elif args.command == "reset":
        store.clear_failures()
        print(f"{store.user}'s recent failed face attempts forgotten")
    return 0


def enrol(store, args) -> int:
    from faceapp.verification import enrolment

    if bool(args.images) == bool(args.camera):
        raise FaceappError("enrol from IMAGES or from --camera SRC (one of the two)")
    root = store.create()
    store.check_private()

    def said(source, face, why):
        print(f"enrolled {source}" if face else f"refused {source}: {why}")

    if args.images:
        report = enrolment.enrol(*args.images, data_root=root, force=args.force, on_each=said)
    else:
        report = enrol_from_camera(root, args.camera, args.force, said)
    total = len(enrolment.enrolled_faces(root))
    done, refused = len(report.enrolled), len(report.refused)
    print(f"{store.user}: {done} enrolled, {refused} refused; {total} in all")
    return 0 if report.enrolled else EXIT_ERROR


def enrol_from_camera(root, source: str, force: bool, said, count: int = 5, seconds: float = 6.0):
    """Enrol ``count`` faces from a camera over up to ``seconds``: the frames the enrolment
    rules accept (a face, sharp, lit, large and facing the camera, not a repeat), taken as
    the person moves their head a little."""
    from faceapp.verification.enrolment import EnrolmentReport, enrol_frame
    from faceapp.vision.camera import FrameSource, parse_source
    from faceapp.vision.finder import FaceFinder

    parsed = parse_source(source)
    if isinstance(parsed, Path) and parsed.is_file():
        from faceapp.verification.enrolment import enrol

        return enrol(source, data_root=root, force=force, on_each=said)  # a video: spread
    print("look at the camera and turn your head a little, slowly")
    finder = FaceFinder(track=True)
    enrolled: list = []
    refused: list[tuple[str, str]] = []
    deadline = time.monotonic() + seconds
    with FrameSource(source) as frames:
        if not frames.opened:
            raise FaceappError(frames.message or f"cannot open camera {source}")
        while len(enrolled) < count and time.monotonic() < deadline:
            frame = frames.read()
            if frame is None:
                continue
            try:
                face = enrol_frame(root, frame, finder.find(frame), True, "camera", force)
            except FaceappError as error:
                refused.append(("camera", str(error)))
                continue
            enrolled.append(face)
            said(f"camera frame {len(enrolled)}", face, None)
            time.sleep(0.3)  # let the head move between two enrolled frames
    return EnrolmentReport(enrolled, refused[-1:] if not enrolled else [])


def list_users(config) -> int:
    from faceapp.login.store import UserStore
    from faceapp.verification.enrolment import enrolled_faces

    if not config.store.is_dir():
        print(f"no faces enrolled yet ({config.store} does not exist)")
        return 0
    for folder in sorted(
        p for p in config.store.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        try:
            store = UserStore(config.store, folder.name)
            store.check_private()
        except FaceappError as error:
            print(f"{folder.name}: refused ({error})")
            continue
        faces = enrolled_faces(store.data_root)
        state = "disabled" if store.disabled else "enabled"
        failures = store.recent_failures(config.lockout_minutes)
        print(f"{store.user}: {len(faces)} face(s), {state}, {failures} recent failure(s)")
    return 0


def test(args, store) -> int:
    """The very check PAM runs, for this user, here (service ``faceapp-login-test``)."""
    from faceapp.login.check import main as check

    environment = {**os.environ, "PAM_USER": store.user, "PAM_SERVICE": "faceapp-login-test"}
    for name in ("PAM_RHOST", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        environment.pop(name, None)
    code = check(["--config", args.config], environment)
    print(
        "accepted: this face would log in" if code == 0 else "refused: the password would be asked"
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
