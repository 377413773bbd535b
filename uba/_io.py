"""Writing files so that a failed write never costs the file that was there.

Every file uba writes (a figure, a table, the benchmarks' results) goes
through :func:`atomic_write`: the bytes go to a new temporary file in the
destination's folder, are flushed to disk, and the temporary is then renamed
over the destination with :func:`os.replace` (atomic on POSIX and Windows).
An exception, Ctrl-C or a full disk while writing leaves the old file as it
was and removes the temporary; readers see the old file or the new one,
never a part of either.

A new file gets the permissions the umask gives (as ``open(path, "w")``
does); an existing file keeps its own.  A symbolic link is followed: the file
it points to is replaced and the link stays.  A process killed outright
(SIGKILL, a power cut) can leave a temporary, named ``.<name>.<random>.tmp``,
beside the destination; the destination itself is still whole.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Literal, TextIO, overload

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "atomic_write",
    "check_destination",
    "figure_format",
    "save_figure",
    "write_bytes",
    "write_text",
]

PathLike = str | os.PathLike[str]


def _name(path: PathLike) -> str:
    """The path as a str; TypeError naming the argument for anything else."""
    try:
        return os.fsdecode(path)
    except TypeError:
        raise TypeError(
            f"path must be a str or an os.PathLike, got {type(path).__name__}"
        ) from None


def _error(code: int, path: PathLike) -> OSError:
    """The OSError subclass for `code` (FileNotFoundError, ...), naming `path`."""
    return OSError(code, os.strerror(code), _name(path))


def check_destination(path: PathLike) -> str:
    """Where writing ``path`` goes (a link's target), once the checks a write
    would fail first are passed: the folder exists and is a folder, and the
    path is not a folder.  Cheap: call it before long work whose result is
    to be written there.

    Raises:
        FileNotFoundError, NotADirectoryError, IsADirectoryError,
        PermissionError (a read-only file), or the OSError reading the
        folder gave; each names ``path``.
    """
    name = _name(path)
    target = os.path.realpath(name) if os.path.islink(name) else name
    folder = os.path.dirname(target) or os.curdir
    try:
        mode = os.stat(folder).st_mode
    except OSError as exc:
        raise _error(exc.errno or errno.ENOENT, name) from None
    if not stat.S_ISDIR(mode):
        raise _error(errno.ENOTDIR, name)
    if os.path.isdir(target):
        raise _error(errno.EISDIR, name)
    if os.path.exists(target) and not os.access(target, os.W_OK):
        raise _error(errno.EACCES, name)  # a read-only file stays so, as open() leaves it
    return target


def _create_temporary(target: str) -> tuple[int, str]:
    """A new file beside `target`, opened for writing: (descriptor, path).
    Mode 0o666 lets the umask decide a new file's permissions."""
    folder, name = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:  # a name already taken is tried again with another
        temporary = os.path.join(folder, f".{name[:32]}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue


@contextlib.contextmanager
def _replacing(
    path: PathLike, text: bool, encoding: str | None, newline: str | None
) -> Iterator[IO[Any]]:
    target = check_destination(path)
    try:
        fd, temporary = _create_temporary(target)
    except OSError as exc:  # no permission, a read-only or full disk: name the user's path
        raise _error(exc.errno or errno.EIO, path) from None
    try:
        # (open() closes the descriptor itself if it fails)
        with open(fd, "w" if text else "wb", encoding=encoding, newline=newline) as file:
            with contextlib.suppress(FileNotFoundError):  # an existing file keeps its mode
                os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
            yield file
            file.flush()
            os.fsync(file.fileno())  # the bytes on disk before the name moves to them
        os.replace(temporary, target)
    except BaseException:  # an error, Ctrl-C, a full disk: the old file stays
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@overload
def atomic_write(
    path: PathLike, mode: Literal["wb"] = ..., *, encoding: None = ..., newline: None = ...
) -> contextlib.AbstractContextManager[BinaryIO]: ...
@overload
def atomic_write(
    path: PathLike, mode: Literal["w"], *, encoding: str = ..., newline: str | None = ...
) -> contextlib.AbstractContextManager[TextIO]: ...
def atomic_write(
    path: PathLike,
    mode: Literal["w", "wb"] = "wb",
    *,
    encoding: str | None = None,
    newline: str | None = None,
) -> contextlib.AbstractContextManager[IO[Any]]:
    """Open a temporary file to write ``path`` through: on leaving the block
    normally it replaces ``path``; on an exception (Ctrl-C included) it is
    removed and ``path`` is left as it was.

    Args:
        path: the destination, a new or an existing file.
        mode: ``"wb"`` (default) yields a binary file, ``"w"`` a text file.
        encoding: for ``"w"``; default UTF-8.
        newline: for ``"w"``, as :func:`open` takes it.

    Raises:
        OSError: the destination cannot be written (missing folder, no
            permission, a folder by that name, a full disk); it names
            ``path``, never the temporary.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from uba._io import atomic_write
        >>> path = Path(tempfile.mkdtemp()) / "notes.txt"
        >>> with atomic_write(path, "w") as f:
        ...     _ = f.write("kept")
        >>> try:
        ...     with atomic_write(path, "w") as f:
        ...         _ = f.write("half a new ")
        ...         raise RuntimeError("the writer failed")
        ... except RuntimeError:
        ...     pass
        >>> path.read_text(), [p.name for p in path.parent.iterdir()]
        ('kept', ['notes.txt'])
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    text = mode == "w"
    return _replacing(path, text, (encoding or "utf-8") if text else None, newline)


def write_text(path: PathLike, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` through :func:`atomic_write`."""
    with atomic_write(path, "w", encoding=encoding) as f:
        f.write(text)


def write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_write`."""
    with atomic_write(path) as f:
        f.write(data)


def figure_format(path: PathLike) -> str:
    """The image format matplotlib writes for ``path``'s extension, e.g.
    ``"png"`` (any case).  A name without a known extension is refused:
    matplotlib would otherwise add ``.png`` and write another file.

    Raises:
        ValueError: no extension, or one matplotlib cannot write; the
            message lists those it can.
    """
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    name = _name(path)
    extension = os.path.splitext(name)[1][1:].lower()
    if extension not in formats:
        known = ", ".join("." + f for f in sorted(formats))
        why = f"an unknown extension .{extension}" if extension else "no extension"
        raise ValueError(f"{name!r} has {why}: name an image ending in {known}")
    return extension


def save_figure(fig: Figure, path: PathLike, **kwargs: Any) -> None:
    """``fig.savefig(path, **kwargs)`` through :func:`atomic_write`: the image
    format is ``kwargs["format"]``, or else the extension of ``path``
    (:func:`figure_format`); ``path`` is written exactly as named."""
    fmt = kwargs.pop("format", None) or figure_format(path)
    with atomic_write(path) as f:
        fig.savefig(f, format=fmt, **kwargs)
