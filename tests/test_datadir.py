"""The data folder confines every network-given file name: real files, links, FIFOs and
devices on this machine's file system."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mrtd.datadir import FOLDERS, DataDir, PathRefused, check_name


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the data folder with a file that must never change."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "precious.txt").write_text("precious data\n")
    return d


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name, why", [
    ("", "needed"),
    ("/etc/passwd", "absolute"),
    ("../outside/precious.txt", "'..'"),
    ("a/../../outside/precious.txt", "'..'"),
    ("..", "'..'"),
    ("bad\0name.wav", "control"),
    ("bad\nname.wav", "control"),
    ("x" * 2000, "longer"),
    ("./", "needed"),
])
def test_names_that_leave_the_folder_are_refused_before_the_disk_is_touched(data, name, why):
    with pytest.raises(PathRefused, match=why):
        check_name(name)
    with pytest.raises(PathRefused, match=why):
        data.resolve("prompts", name)
    with pytest.raises(PathRefused, match=why):
        data.create("recordings", name)


def test_folders_are_made_on_first_use(data):
    for kind in FOLDERS:
        assert data.folder(kind).is_dir()
    assert sorted(p.name for p in data.root.iterdir()) == sorted(FOLDERS)


def test_a_new_file_is_exclusive_0644_and_kept_unless_overwrite(data):
    os.umask(0o077)  # a restrictive umask must not make recordings unreadable to their owner's tools
    try:
        fd, path = data.create("recordings", "take.wav")
    finally:
        os.umask(0o022)
    os.write(fd, b"first")
    os.close(fd)
    assert path == data.folder("recordings") / "take.wav"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    with pytest.raises(PathRefused, match="exists: not overwritten"):
        data.create("recordings", "take.wav")
    assert path.read_bytes() == b"first"
    fd, _ = data.create("recordings", "take.wav", overwrite=True)
    os.write(fd, b"second")
    os.close(fd)
    assert path.read_bytes() == b"second"


def test_subfolders_of_a_name_are_created_inside(data):
    fd, path = data.create("recordings", "gig/set1/take.wav")
    os.close(fd)
    assert path.parent == data.folder("recordings") / "gig" / "set1" and path.is_file()


def test_writes_never_go_through_a_symbolic_link(data, outside):
    before = snapshot(outside)
    rec = data.folder("recordings")
    (rec / "link.wav").symlink_to(outside / "precious.txt")
    (rec / "dangling.wav").symlink_to(outside / "new.txt")
    (rec / "sub").symlink_to(outside, target_is_directory=True)
    for name in ("link.wav", "dangling.wav"):
        with pytest.raises(PathRefused):
            data.create("recordings", name)
        with pytest.raises(PathRefused, match="not a regular file"):
            data.create("recordings", name, overwrite=True)
    with pytest.raises(PathRefused, match="symbolic link"):
        data.create("recordings", "sub/x.wav")
    (rec / "folder").mkdir()
    with pytest.raises(PathRefused, match="not a regular file"):
        data.create("recordings", "folder", overwrite=True)
    assert snapshot(outside) == before
    assert not (outside / "new.txt").exists() and not (outside / "x.wav").exists()


def test_reads_take_regular_files_inside_only(data, outside, tmp_path):
    prompts = data.folder("prompts")
    (prompts / "ok.wav").write_bytes(b"RIFF....")
    fd, path = data.open_read("prompts", "ok.wav")
    os.close(fd)
    assert path == prompts / "ok.wav"
    (prompts / "inner.wav").symlink_to(prompts / "ok.wav")  # a link that stays inside is fine
    assert data.check_read("prompts", "inner.wav") == prompts / "ok.wav"
    (prompts / "out.wav").symlink_to(outside / "precious.txt")
    (prompts / "out_missing.wav").symlink_to(outside / "missing.txt")
    (prompts / "loops").symlink_to(outside, target_is_directory=True)
    texts = []
    for name in ("out.wav", "out_missing.wav", "loops/precious.txt", "loops/missing.txt"):
        with pytest.raises(PathRefused, match="leads out of the prompts folder") as e:
            data.check_read("prompts", name)
        texts.append(str(e.value).split(" leads")[1])
    assert len(set(texts)) == 1  # the same words whether the outside file exists or not
    os.mkfifo(prompts / "fifo.wav")
    with pytest.raises(PathRefused, match="not a regular file"):
        data.check_read("prompts", "fifo.wav")  # refused at once, never waited on
    (prompts / "dir.wav").mkdir()
    with pytest.raises(PathRefused, match="not a regular file"):
        data.check_read("prompts", "dir.wav")
    (prompts / "stdin.wav").symlink_to("/dev/stdin")
    with pytest.raises(PathRefused, match="leads out"):
        data.check_read("prompts", "stdin.wav")
    with pytest.raises(PathRefused, match="no such file"):
        data.check_read("prompts", "missing.wav")
    (prompts / "empty.wav").write_bytes(b"")
    with pytest.raises(PathRefused, match="empty"):
        data.check_read("prompts", "empty.wav")
    with open(prompts / "huge.wav", "wb") as f:
        f.truncate(2 << 20)  # sparse: no disk used
    with pytest.raises(PathRefused, match="too large"):
        data.check_read("prompts", "huge.wav", max_bytes=1 << 20)


def test_a_device_is_not_a_regular_file(tmp_path):
    trusted = DataDir(tmp_path, trusted=True)  # the operator's own paths may be absolute
    with pytest.raises(PathRefused, match="not a regular file"):
        trusted.check_read("prompts", "/dev/zero")
    with pytest.raises(PathRefused, match="absolute"):
        DataDir(tmp_path).check_read("prompts", "/dev/zero")


def test_free_name_and_prune(data):
    assert data.free_name("recordings", "take", ".wav") == "take.wav"
    (data.folder("recordings") / "take.wav").write_bytes(b"x")
    assert data.free_name("recordings", "take", ".wav") == "take-2.wav"
    caps = data.folder("captures")
    for i in range(5):
        p = caps / f"input-{i}.wav"
        p.write_bytes(b"x")
        os.utime(p, ns=(i * 10**9, i * 10**9))
    gone = data.prune("captures", "input-*.wav", 2)
    assert sorted(p.name for p in gone) == ["input-0.wav", "input-1.wav", "input-2.wav"]
    assert sorted(p.name for p in caps.iterdir()) == ["input-3.wav", "input-4.wav"]
