"""uba._io: every file the package writes replaces the old one whole, or
leaves it as it was (an exception, Ctrl-C, a full disk), with no temporary
left behind; new files get the umask's permissions, existing ones keep theirs."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from uba import _io

OLD = b"the old contents, which must survive\n"
POSIX = os.name == "posix"


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "out.png"
    path.write_bytes(OLD)
    return path


def assert_untouched(path: Path) -> None:
    """The old bytes, and nothing else in the folder (no temporary)."""
    assert path.read_bytes() == OLD
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    previous = os.umask(0o022)
    os.umask(previous)

    def set_umask(mask: int) -> None:
        os.umask(mask)

    yield set_umask
    os.umask(previous)


def test_a_write_replaces_the_file_whole(old_file: Path) -> None:
    with _io.atomic_write(old_file) as f:
        f.write(b"new")
        assert old_file.read_bytes() == OLD  # not yet: the new bytes are elsewhere
    assert old_file.read_bytes() == b"new"
    assert sorted(p.name for p in old_file.parent.iterdir()) == ["out.png"]


@pytest.mark.parametrize("error", [RuntimeError("the writer failed"), KeyboardInterrupt()])
def test_an_error_or_ctrl_c_while_writing_leaves_the_old_file(
    old_file: Path, error: BaseException
) -> None:
    with pytest.raises(type(error)), _io.atomic_write(old_file) as f:
        f.write(b"half of the new ")
        raise error
    assert_untouched(old_file)


def test_a_full_disk_leaves_the_old_file(old_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ENOSPC where a full disk reports it: on a write, or only when the data reach the disk
    with pytest.raises(OSError) as info, _io.atomic_write(old_file) as f:
        f.write(b"part")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert info.value.errno == errno.ENOSPC
    assert_untouched(old_file)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_io.os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        _io.write_text(old_file, "all of the new text")
    assert_untouched(old_file)


def test_write_bytes(old_file: Path) -> None:
    _io.write_bytes(old_file, b"\x00new\xff")
    assert old_file.read_bytes() == b"\x00new\xff"


def test_text_mode_and_write_text(tmp_path: Path) -> None:
    path = tmp_path / "results.md"
    _io.write_text(path, "π ≈ 3.14\n")
    assert path.read_text(encoding="utf-8") == "π ≈ 3.14\n"
    with _io.atomic_write(path, "w", newline="") as f:
        f.write("a,b\r\n")
    assert path.read_bytes() == b"a,b\r\n"
    with pytest.raises(ValueError, match="mode must be 'w' or 'wb', got 'a'"):
        _io.atomic_write(path, "a")  # type: ignore[call-overload]


@pytest.mark.skipif(not POSIX, reason="POSIX permission bits")
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_umasks_mode(
    tmp_path: Path, umask: Callable[[int], None], mask: int
) -> None:
    umask(mask)
    path = tmp_path / "new.csv"
    _io.write_text(path, "x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


@pytest.mark.skipif(not POSIX, reason="POSIX permission bits")
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664, 0o755])
def test_an_existing_file_keeps_its_mode(
    old_file: Path, umask: Callable[[int], None], mode: int
) -> None:
    umask(0o077)
    old_file.chmod(mode)
    _io.write_text(old_file, "new")
    assert stat.S_IMODE(old_file.stat().st_mode) == mode
    assert old_file.read_text() == "new"


@pytest.mark.skipif(not POSIX, reason="symbolic links")
def test_a_link_is_followed_and_kept(old_file: Path) -> None:
    link = old_file.parent / "latest.png"
    link.symlink_to(old_file.name)
    _io.write_text(link, "through the link")
    assert link.is_symlink() and os.readlink(link) == old_file.name
    assert old_file.read_text() == "through the link"


@pytest.mark.skipif(not POSIX or os.geteuid() == 0, reason="POSIX permissions, which root bypasses")
def test_a_read_only_file_is_refused_as_open_would(old_file: Path) -> None:
    old_file.chmod(0o444)
    with pytest.raises(PermissionError) as info:
        _io.write_text(old_file, "new")
    assert info.value.filename == str(old_file)
    assert_untouched(old_file)


@pytest.mark.skipif(not POSIX or os.geteuid() == 0, reason="POSIX permissions, which root bypasses")
def test_an_unwritable_folder_names_the_destination(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError) as info:
            _io.write_text(folder / "x.png", "new")
        assert info.value.filename == str(folder / "x.png")  # not the temporary's name
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


def under_a_file(tmp: Path) -> Path:
    (tmp / "file").write_text("a file, not a folder")
    return tmp / "file" / "x.png"


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda tmp: tmp / "missing" / "x.png", FileNotFoundError),
        (lambda tmp: tmp, IsADirectoryError),
        (under_a_file, NotADirectoryError),
    ],
)
def test_a_path_that_cannot_be_a_file_is_refused_before_writing(
    tmp_path: Path, make: Callable[[Path], Path], error: type[OSError]
) -> None:
    path = make(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(error) as info, _io.atomic_write(path):
        pytest.fail("the block ran")
    assert info.value.filename == str(path)
    assert sorted(tmp_path.rglob("*")) == before


def test_figure_format_needs_a_known_extension() -> None:
    pytest.importorskip("matplotlib")
    assert _io.figure_format("a/b.PNG") == "png"
    assert _io.figure_format("x.svg") == "svg"
    with pytest.raises(ValueError, match=r"'report' has no extension: name an image ending in"):
        _io.figure_format("report")
    with pytest.raises(ValueError, match=r"'p.notaformat' has an unknown extension .notaformat"):
        _io.figure_format("p.notaformat")
    with pytest.raises(ValueError, match=r"'.png' has no extension"):
        _io.figure_format(".png")  # a hidden file's name, not an extension
