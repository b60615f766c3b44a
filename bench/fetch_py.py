#!/usr/bin/python3
"""The Python contestants of the download benchmark (issue 3), written like the reference notebook:
one `requests.get(link)` per image (no Session, as in the notebook), `r.content` written to
FOLDER/<last path segment>.

    fetch_py.py serial  URLS_FILE FOLDER      # the reference: a plain loop
    fetch_py.py threads URLS_FILE FOLDER 16   # the same function in ThreadPoolExecutor(16)

Run with Debian's /usr/bin/python3 and python3-requests. A timeout is set so that a run can never
hang (the notebook had none); correctness is checked afterwards by the benchmark (count, sizes).
"""
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import requests


def download_image(link, folder):
    r = requests.get(link, timeout=60)
    with open(os.path.join(folder, link.split("/")[-1]), "wb") as f:
        f.write(r.content)


def main():
    mode, urls_file, folder = sys.argv[1:4]
    with open(urls_file) as f:
        links = [line.strip() for line in f if line.strip()]
    os.makedirs(folder, exist_ok=True)
    if mode == "serial":
        for link in links:
            download_image(link, folder)
    elif mode == "threads":
        workers = int(sys.argv[4])
        with ThreadPoolExecutor(workers) as pool:
            # list(): wait for every download and re-raise the first error
            list(pool.map(lambda link: download_image(link, folder), links))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
