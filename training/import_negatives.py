"""``python -m training.import_negatives SOURCE``: fill ``negative/`` with other people's faces.

SOURCE is a folder (searched recursively, e.g. an LFW tree) or a ``.tgz`` / ``.tar.gz`` /
``.tar`` archive of one. Images are copied flat into ``<data root>/negative/`` under their
own file names (LFW's ``Person_Name_0001.jpg`` are unique, and keep who is who for the
identity-aware split); a name that occurs twice in the source gets its folder path as a
prefix. Nothing is overwritten: files already in ``negative/`` are skipped, so the
command can be re-run. Unreadable images are skipped and counted in one warning line.

``--download`` fetches the public LFW archive first (for users with internet); offline
it stops with a clear message saying what to do instead.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import sys
import tarfile
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from faceapp.errors import FaceappError, OneLineParser, cli_guard, one_line
from faceapp.options import data_root_flag
from faceapp.paths import DataRoot, make_private_dir
from faceapp.storage import atomic_path, write_bytes_atomic
from faceapp.vision.imaging import IMAGE_SUFFIXES, decode_image, is_image_file, summarize_skipped

LFW_URL = "https://ndownloader.figshare.com/files/5976018"  # lfw.tgz, as scikit-learn fetches it
ARCHIVE_SUFFIXES = (".tgz", ".tar.gz", ".tar")
MAX_IMAGE_BYTES = 50_000_000


@dataclass
class ImportResult:
    copied: int = 0
    existing: int = 0
    skipped: list[tuple[object, str]] = field(default_factory=list)

    def summary(self, target: Path) -> str:
        return (
            f"imported {self.copied} images into {target} "
            f"({self.existing} already there, {len(self.skipped)} unreadable)"
        )


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _flat_names(relatives: list[str]) -> list[str]:
    """File names in ``negative/``: the base name, or the whole path joined by ``_`` on a clash."""
    counts = Counter(Path(r).name for r in relatives)
    return [
        Path(r).name if counts[Path(r).name] == 1 else "_".join(Path(r).parts) for r in relatives
    ]


@contextmanager
def folder_images(source: Path) -> Iterator[list[tuple[str, Callable[[], bytes]]]]:
    """``[(relative path, read bytes)]`` for every image under ``source``, sorted."""
    files = sorted(
        p
        for p in source.rglob("*")
        if is_image_file(p)
        and not any(part.startswith(".") for part in p.relative_to(source).parts)
    )
    yield [(str(path.relative_to(source)), path.read_bytes) for path in files]


@contextmanager
def archive_images(archive: Path) -> Iterator[list[tuple[str, Callable[[], bytes]]]]:
    """``[(member path, read bytes)]`` for every regular image file in a tar archive.

    Kept in archive order (reading never seeks back). Links, devices, hidden files and
    members with odd paths are ignored; nothing is extracted to disk but the flattened
    images themselves.
    """
    try:
        tar = tarfile.open(archive, "r:*")  # noqa: SIM115 - closed by the `with tar` below
    except (tarfile.TarError, OSError) as error:
        raise FaceappError(f"cannot open archive {archive}: {one_line(error)}") from None
    with tar:
        try:
            members = [m for m in tar.getmembers() if m.isfile()]
        except (tarfile.TarError, OSError, EOFError) as error:
            raise FaceappError(f"corrupt archive {archive}: {one_line(error)}") from None
        entries: list[tuple[str, Callable[[], bytes]]] = []
        for member in members:
            name = Path(member.name)
            if (
                name.suffix.lower() not in IMAGE_SUFFIXES
                or name.name.startswith(".")
                or name.is_absolute()
                or ".." in name.parts
                or member.size > MAX_IMAGE_BYTES
            ):
                continue

            entries.append((member.name, functools.partial(_read_member, tar, member)))
        yield entries


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    return handle.read() if handle else b""


def open_source(source: Path):
    """The right lister for a folder or an archive; a clear error for anything else."""
    if source.is_dir():
        return folder_images(source)
    if is_archive(source):
        return archive_images(source)
    if not source.exists():
        raise FaceappError(f"source not found: {source}")
    raise FaceappError(f"source must be a folder or a .tgz/.tar.gz/.tar archive: {source}")


def spread(named_entries: list) -> list:
    """The entries one person at a time, in turns (each person's first image, then each
    one's second, ...), so that ``--limit N`` takes N different people where it can, not the
    first N files of the alphabet. A person is the folder an image is in."""
    by_person: dict[str, list] = {}
    for named in named_entries:
        by_person.setdefault(str(Path(named[1][0]).parent), []).append(named)
    turns = itertools.zip_longest(*by_person.values())
    return [named for turn in turns for named in turn if named is not None]


def import_negatives(
    source: str | os.PathLike, target: Path, limit: int | None = None
) -> ImportResult:
    """Copy the images of a folder or archive flat into ``target``; never overwrite."""
    source = Path(source)
    with open_source(source) as entries:
        if not entries:
            raise FaceappError(f"no images found in {source}")
        make_private_dir(target)
        result = ImportResult()
        names = _flat_names([relative for relative, _ in entries])
        for name, (relative, read) in spread(list(zip(names, entries))):
            if limit is not None and result.copied >= limit:
                break
            destination = target / name
            if destination.exists():
                result.existing += 1
                continue
            try:
                data = read()
                decode_image(data, relative)  # refuse what training could not read
            except FaceappError as error:
                result.skipped.append((relative, str(error)))
                continue
            except (OSError, tarfile.TarError, EOFError) as error:
                result.skipped.append((relative, f"cannot read {relative}: {one_line(error)}"))
                continue
            try:
                write_bytes_atomic(destination, data)
            except FaceappError:  # appeared meanwhile: still no overwrite
                result.existing += 1
                continue
            result.copied += 1
    return result


def download(url: str, target: Path, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``target`` (atomic); a clear one-line error when offline."""
    if target.exists():
        print(f"using the archive already downloaded: {target}")
        return target
    print(f"downloading {url} -> {target} (about 180 MB)", flush=True)
    try:
        with (
            urllib.request.urlopen(url, timeout=timeout) as response,
            atomic_path(target) as temp,
            open(temp, "wb") as out,
        ):
            while chunk := response.read(1 << 20):
                out.write(chunk)
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise FaceappError(
            f"cannot download {url} ({one_line(reason)}): are you offline? Download lfw.tgz "
            "yourself and run: python -m training.import_negatives lfw.tgz"
        ) from None
    return target


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m training.import_negatives",
        description="Copy other people's face images (an LFW folder or archive) flat into "
        "<data root>/negative/, skipping files already there and unreadable images.",
        epilog="examples:\n"
        "  python -m training.import_negatives ../shared/data/lfw\n"
        "  python -m training.import_negatives lfw.tgz --limit 300\n"
        "  python -m training.import_negatives --download",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[data_root_flag()],
    )
    parser.add_argument(
        "source",
        nargs="?",
        help="a folder of images (searched recursively) or a .tgz/.tar.gz/.tar archive",
    )

    parser.add_argument(
        "--limit", type=int, metavar="N", help="copy at most N new images (default: all)"
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="first download the public LFW archive into <data root>/downloads/ "
        "(needs internet; fails with a clear message offline)",
    )
    parser.add_argument("--url", default=LFW_URL, help=f"archive to download (default: {LFW_URL})")
    return parser


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.limit is not None and args.limit < 1:
        raise FaceappError(f"--limit must be at least 1, got {args.limit}")
    root = DataRoot.resolve(args.data_root)
    source = args.source
    if args.download:
        make_private_dir(root.root)
        source = download(args.url, root.root / "downloads" / "lfw.tgz")
    if source is None:
        raise FaceappError("give a SOURCE folder or archive, or --download")
    result = import_negatives(source, root.negative, args.limit)
    warning = summarize_skipped(result.skipped)
    if warning:
        print(warning, file=sys.stderr)
    print(result.summary(root.negative))
    return 0


if __name__ == "__main__":
    sys.exit(main())
