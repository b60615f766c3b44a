"""fetch, thumbs, run and bench from Python: their rows and columns, per-item failures as rows,
and the same files as the command line."""

import shutil

import pandas as pd
import pytest

import thumbfetch
from conftest import hidden_leftovers, images, run_cli


def check_columns(frame, columns):
    assert list(frame.columns) == list(columns)
    assert {name: str(t) for name, t in frame.dtypes.items()} == columns


def test_fetch_rows_columns_and_the_same_files_as_the_cli(server, exe, tmp_path):
    links = server.links()
    frame = thumbfetch.fetch(links, tmp_path / "py", jobs=4, progress=False)
    check_columns(frame, thumbfetch.FETCH_COLUMNS)
    assert list(frame["url"]) == links
    assert (frame["status"] == "ok").all()
    assert (frame["http_code"] == 200).all() and (frame["bytes"] > 0).all()
    assert frame.attrs["summary"]["ok"] == len(links)

    url_list = tmp_path / "links.txt"
    url_list.write_text("\n".join(links) + "\n")
    cli = run_cli(exe, "fetch", "--urls", url_list, "-o", tmp_path / "cli", "-j", 4, "-q")
    assert cli.returncode == 0, cli.stderr
    assert images(tmp_path / "py") == images(tmp_path / "cli")
    assert hidden_leftovers(tmp_path / "py") == []


def test_fetch_bad_urls_and_failed_downloads_are_rows(server, tmp_path):
    good = server.links()[0]
    urls = [good, "ftp://example.org/a.jpg", "not a url", good, server.url + "/img/missing.jpg",
            good + "?fault=html"]
    frame = thumbfetch.fetch(urls, tmp_path / "out", progress=False)
    by_url = frame.set_index("url")
    assert len(frame) == 5  # the duplicate fetched once
    assert by_url.loc[good, "status"] == "ok"
    assert by_url.loc["ftp://example.org/a.jpg", "error_kind"] == "refused"
    assert by_url.loc["not a url", "status"] == "failed"
    assert by_url.loc[server.url + "/img/missing.jpg", "error_kind"] == "HTTP error"
    assert by_url.loc[server.url + "/img/missing.jpg", "http_code"] == 404
    assert by_url.loc[good + "?fault=html", "error_kind"] == "not an image"
    assert frame.attrs["summary"]["failed"] == 4


def test_thumbs_rows_columns_and_the_same_files_as_the_cli(corpus, exe, tmp_path):
    for strategy in ["serial", "threads", "processes"]:
        out = tmp_path / strategy
        frame = thumbfetch.thumbs(corpus, out, strategy=strategy, jobs=2, progress=False)
        check_columns(frame, thumbfetch.THUMBS_COLUMNS)
        assert len(frame) == 16 and (frame["status"] == "ok").all()
        assert (frame[["width", "height"]].max(axis=1) == 128).all()
        assert set(frame["decoder"]) <= {"libjpeg-turbo", "libspng", "libvips"}
    cli = run_cli(exe, "thumbs", corpus, "-o", tmp_path / "cli", "-q")
    assert cli.returncode == 0, cli.stderr
    reference = images(tmp_path / "cli")
    assert len(reference) == 16
    for strategy in ["serial", "threads", "processes"]:
        assert images(tmp_path / strategy) == reference, strategy


def test_thumbs_options_reach_the_job(corpus, exe, tmp_path):
    one = sorted(corpus.iterdir())[0]
    frame = thumbfetch.thumbs([one], tmp_path / "py", size=(64, 48), mode="cover",
                              format="png", progress=False)
    assert (frame.loc[0, "width"], frame.loc[0, "height"]) == (64, 48)
    assert frame.loc[0, "file"].endswith(".png")
    cli = run_cli(exe, "thumbs", one, "-o", tmp_path / "cli", "--size", "64x48", "--mode", "cover",
                  "--format", "png")
    assert cli.returncode == 0, cli.stderr
    assert images(tmp_path / "py") == images(tmp_path / "cli")


def test_thumbs_a_bad_file_is_a_row_and_the_batch_goes_on(corpus, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a-page.jpg").write_text("<html><body>not found</body></html>")
    good = sorted(corpus.iterdir())[:2]
    for p in good:
        shutil.copy(p, inputs / p.name)
    frame = thumbfetch.thumbs(inputs, tmp_path / "out", progress=False).set_index("input")
    bad = frame.loc[str(inputs / "a-page.jpg")]
    assert bad["status"] == "failed" and bad["error_kind"] == "not an image"
    assert "text/html" in bad["error"] and bad["file"] == ""
    assert (frame.drop(index=str(inputs / "a-page.jpg"))["status"] == "ok").all()


def test_thumbs_skip_existing_resumes(corpus, tmp_path):
    thumbfetch.thumbs(corpus, tmp_path / "out", progress=False)
    again = thumbfetch.thumbs(corpus, tmp_path / "out", skip_existing=True, progress=False)
    assert (again["status"] == "skipped").all()


def test_run_pipeline_rows_and_the_same_files_as_the_cli(server, exe, tmp_path):
    links = server.links()
    frame = thumbfetch.run(links, tmp_path / "py", jobs=4, workers=2, progress=False)
    check_columns(frame, thumbfetch.RUN_COLUMNS)
    assert (frame["status"] == "ok").all() and (frame["thumb_bytes"] > 0).all()
    url_list = tmp_path / "links.txt"
    url_list.write_text("\n".join(links) + "\n")
    cli = run_cli(exe, "run", "--urls", url_list, "-o", tmp_path / "cli", "-j", 4, "-w", 2, "-q")
    assert cli.returncode == 0, cli.stderr
    assert images(tmp_path / "py") == images(tmp_path / "cli")
    assert len(images(tmp_path / "py")) == len(links)


def test_bench_comparison_table(tmp_path):
    frame = thumbfetch.bench(serve=6, latency=0, repeat=1, jobs=4, workers=2,
                             report=tmp_path / "report", progress=False)
    check_columns(frame, thumbfetch.BENCH_COLUMNS)
    assert list(frame["strategy"]) == ["serial", "threads", "async", "serial", "threads",
                                       "processes", "run"]
    assert (frame["failed"] == 0).all() and (frame["mismatch"] == "").all()
    assert (frame["ok"] == frame["items"]).all() and (frame["items"] == 6).all()
    assert frame.loc[0, "speedup"] == 1.0
    assert "thumbfetch serve" in frame.attrs["summary"]["source"]
    assert (tmp_path / "report" / "index.html").is_file()


def test_bench_needs_one_source():
    with pytest.raises(ValueError, match="give one source"):
        thumbfetch.bench(progress=False)


def test_without_pandas_results_are_lists_of_dicts(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(thumbfetch, "_pandas", None)
    rows = thumbfetch.thumbs(corpus, tmp_path / "out", progress=False)
    assert isinstance(rows, list) and not isinstance(rows, pd.DataFrame)
    assert list(rows[0]) == list(thumbfetch.THUMBS_COLUMNS)
    assert rows.summary["ok"] == 16


def test_thumbs_mirror_tree_keeps_the_folders_as_the_cli_does(corpus, exe, tmp_path):
    tree = tmp_path / "tree"
    for i, image in enumerate(sorted(corpus.iterdir())[:4]):
        target = tree / ("a/b" if i % 2 else "a") / image.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(image, target)
    frame = thumbfetch.thumbs([tree], tmp_path / "py", recursive=True, mirror_tree=True,
                              progress=False)
    assert (frame["status"] == "ok").all()
    cli = run_cli(exe, "thumbs", "-r", "--mirror-tree", tree, "-o", tmp_path / "cli", "-q")
    assert cli.returncode == 0, cli.stderr
    made = sorted(p.relative_to(tmp_path / "py").as_posix()
                  for p in (tmp_path / "py").rglob("*.jpg"))
    assert made == sorted(p.relative_to(tmp_path / "cli").as_posix()
                          for p in (tmp_path / "cli").rglob("*.jpg"))
    assert len(made) == 4 and sum(m.startswith("a/b/") for m in made) == 2
    with pytest.raises(thumbfetch.SetupError):  # without -r: a usage error, as in the CLI
        thumbfetch.thumbs([tree], tmp_path / "flat", mirror_tree=True, progress=False)
