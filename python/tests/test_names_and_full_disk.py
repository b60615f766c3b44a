"""File names that are not UTF-8, a disk that fills up, and the rows of items a stopped run never
started."""

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile

import pytest

import thumbfetch


def test_thumbs_a_file_name_that_is_not_utf8_is_a_row(corpus, tmp_path):
    # Linux names are bytes: b"caf\xe9.jpg" (Latin-1) is a valid name that is not UTF-8. Python
    # shows it as os.fsdecode does ("caf\udce9.jpg"); the row must not be lost decoding it.
    inputs = tmp_path / "in"
    inputs.mkdir()
    jpeg = next(p for p in sorted(corpus.iterdir()) if p.suffix == ".jpg")
    raw = os.path.join(os.fsencode(inputs), b"caf\xe9.jpg")
    shutil.copy(jpeg, raw)
    bad = os.path.join(os.fsencode(inputs), b"page-\xff.jpg")
    with open(bad, "wb") as f:
        f.write(b"<html><body>not found</body></html>")
    frame = thumbfetch.thumbs(inputs, tmp_path / "out", progress=False).set_index("input")
    assert sorted(frame.index) == sorted([os.fsdecode(raw), os.fsdecode(bad)])
    good = frame.loc[os.fsdecode(raw)]
    assert good["status"] == "ok", good["error"]
    assert os.path.isfile(os.fsencode(good["file"]))  # the name round-trips to the bytes
    assert frame.loc[os.fsdecode(bad), "error_kind"] == "not an image"


def test_thumbs_takes_such_a_name_as_str_or_bytes(corpus, tmp_path):
    jpeg = next(p for p in sorted(corpus.iterdir()) if p.suffix == ".jpg")
    raw = os.path.join(os.fsencode(tmp_path), b"na\xefve.jpg")
    shutil.copy(jpeg, raw)
    for given, out in [(os.fsdecode(raw), "from-str"), (raw, "from-bytes")]:
        frame = thumbfetch.thumbs([given], tmp_path / out, progress=False)
        assert list(frame["input"]) == [os.fsdecode(raw)]
        assert list(frame["status"]) == ["ok"]


@contextlib.contextmanager
def small_disk(size="2m"):
    """A tmpfs of `size` (root only: mount(8)), unmounted and removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder = tempfile.mkdtemp(prefix="thumbfetch-full-")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", folder],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        os.rmdir(folder)
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", folder], check=True)
        os.rmdir(folder)


@pytest.fixture(scope="module")
def corpus20(tmp_path_factory, exe):
    """20 web-sized images: as 1024-pixel PNG thumbnails they need far more than 2 MB."""
    folder = tmp_path_factory.mktemp("corpus20")
    subprocess.run([exe, "corpus", str(folder), "-n", "20"], check=True, capture_output=True)
    return folder


def check_not_started_rows(frame, summary):
    """Rows of items the stopped run never did: one word for them, the summary's count."""
    not_started = frame[frame["status"] == "not started"]
    assert len(not_started) == summary["not_started"] > 0
    assert set(not_started["error_kind"]) == {"cancelled"}, set(not_started["error_kind"])
    assert (not_started["file"] == "").all()
    assert "internal error" not in set(frame["error_kind"])


def test_thumbs_on_a_full_disk_raise_enospc_once_with_the_rows(corpus20, tmp_path):
    with small_disk() as disk:
        out = os.path.join(disk, "thumbs")
        with pytest.raises(OSError) as caught:
            thumbfetch.thumbs(corpus20, out, size=(1024, 1024), format="png", jobs=2,
                              progress=False)
        assert caught.value.errno == errno.ENOSPC
        assert "no space left on device" in str(caught.value)
        frame = caught.value.result  # the rows are not lost with the exception
        summary = frame.attrs["summary"]
        assert summary["out_of_space"] and summary["out_of_space"] in str(caught.value)
        assert len(frame) == 20 and summary["ok"] == (frame["status"] == "ok").sum() > 0
        check_not_started_rows(frame, summary)
        assert not [p for p in os.listdir(out) if p.startswith(".") and p != ".thumbfetch.lock"]


def leave_room_for(disk, size):
    """Fills `disk` up to `size` bytes of free room."""
    room = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(os.path.join(disk, "filler"), "wb") as f:
        f.write(b"\0" * max(0, room - size))


def test_fetch_on_a_full_disk_raise_enospc_and_name_not_started_rows(server, tmp_path):
    links = server.links()
    with small_disk() as disk:
        # Room for a few of the images, not for all.
        first = thumbfetch.fetch(links[:1], tmp_path / "probe", progress=False)
        leave_room_for(disk, 3 * int(first.loc[0, "bytes"]))
        with pytest.raises(OSError) as caught:
            thumbfetch.fetch(links, os.path.join(disk, "images"), jobs=1, progress=False)
        assert caught.value.errno == errno.ENOSPC
        frame = caught.value.result
        check_not_started_rows(frame, frame.attrs["summary"])
        assert (frame["status"] != "failed").all()  # a full disk is no item's failure


def test_fetch_stopped_by_a_full_disk_still_reports_its_resumed_rows(server, tmp_path):
    # Items an earlier run finished, after the point where the disk fills: the stopped run never
    # reaches them, yet their files are there; rows and summary both say "skipped".
    links = server.links()
    with small_disk() as disk:
        out = os.path.join(disk, "images")
        thumbfetch.fetch(links[-2:], out, progress=False)
        first = thumbfetch.fetch(links[:1], tmp_path / "probe", progress=False)
        leave_room_for(disk, 3 * int(first.loc[0, "bytes"]))
        with pytest.raises(OSError) as caught:
            thumbfetch.fetch(links, out, jobs=1, progress=False)
        assert caught.value.errno == errno.ENOSPC
        frame = caught.value.result
        summary = frame.attrs["summary"]
        resumed = frame[frame["url"].isin(links[-2:])]
        assert list(resumed["status"]) == ["skipped", "skipped"]
        assert summary["skipped"] == (frame["status"] == "skipped").sum() == 2
        check_not_started_rows(frame, summary)


def test_run_on_a_full_disk_raise_enospc_and_name_not_started_rows(server, tmp_path):
    links = server.links()
    with small_disk() as disk:
        first = thumbfetch.fetch(links[:1], tmp_path / "probe", progress=False)
        leave_room_for(disk, 3 * int(first.loc[0, "bytes"]))
        with pytest.raises(OSError) as caught:
            thumbfetch.run(links, os.path.join(disk, "out"), jobs=1, workers=1, size=(1024, 1024),
                           format="png", progress=False)
        assert caught.value.errno == errno.ENOSPC
        frame = caught.value.result
        check_not_started_rows(frame, frame.attrs["summary"])
        assert (frame["status"] != "failed").all()


def test_a_run_with_room_says_no_full_disk(corpus, tmp_path):
    frame = thumbfetch.thumbs(corpus, tmp_path / "out", progress=False)
    assert frame.attrs["summary"]["out_of_space"] is None
