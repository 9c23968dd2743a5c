"""Reads every picture under DIR with Ray Data and writes one JSON line per picture:
{"file", "text", "confidence"} (and "error" for a picture that could not be read); with
--min-confidence P, "accepted" too: whether the confidence is at least P (the others are the
ones to read by hand).

    python examples/python/ray_read.py DIR --out results.jsonl [--workers 2] [--threads 1]
        [--min-confidence P]

Each Ray worker loads the reader once (a callable class in `map_batches`) and caps digits'
threads at --threads, so the workers of one machine do not fight over its cores. Without
--address it starts a local Ray cluster; `--address auto` joins the cluster this machine is
part of (see README, "Python"). DIR may be any path Ray reads (a shared folder, s3://...).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import ray

import digits

PICTURES = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp"]
EXTENSIONS = PICTURES + [e.upper() for e in PICTURES]


class ReadNumbers:
    """One per Ray worker: the model is loaded once, in __init__."""

    def __init__(self, threads: int, model: str | None, min_confidence: float | None) -> None:
        digits.set_num_threads(threads)
        self.reader = digits.Reader(model)
        self.min_confidence = min_confidence

    def __call__(self, batch: dict) -> dict:
        readings = self.reader.read(
            list(batch["bytes"]), errors="report", min_confidence=self.min_confidence
        )
        return {
            "file": list(batch["path"]),
            "text": [r.get("text") for r in readings],
            "confidence": [r.get("confidence") for r in readings],
            "accepted": [r.get("accepted") for r in readings],
            "error": [r.get("error") for r in readings],
        }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir", help="folder of pictures (searched recursively)")
    p.add_argument("--out", required=True, help="JSON lines file to write")
    p.add_argument("--workers", type=int, default=2, help="reader actors (default 2)")
    p.add_argument("--threads", type=int, default=1, help="digits threads per worker (default 1)")
    p.add_argument("--batch-size", type=int, default=64, help="pictures per map_batches call")
    p.add_argument("--model", help="a digits checkpoint (default: the built-in model)")
    p.add_argument("--address", help="Ray cluster to join (e.g. auto); default: a local one")
    p.add_argument("--min-confidence", type=float, metavar="P",
                   help="say whether each number is read with a confidence of at least P")
    args = p.parse_args(argv)
    if args.workers < 1 or args.threads < 1 or args.batch_size < 1:
        p.error("--workers, --threads and --batch-size must be at least 1")
    if args.min_confidence is not None and not 0 <= args.min_confidence <= 1:
        p.error(f"--min-confidence: {args.min_confidence} is not a probability (between 0 and 1)")
    local = "://" not in args.dir
    if local and not os.path.isdir(args.dir):
        p.error(f"{args.dir} is not a folder")

    started = time.perf_counter()
    if args.address:
        ray.init(address=args.address)
    else:
        # One CPU more than the readers take, for the tasks that read the files: with none
        # left, the readers would wait for input forever.
        ray.init(num_cpus=args.workers * args.threads + 1, include_dashboard=False,
                 log_to_driver=False)
    ds = ray.data.read_binary_files(args.dir, include_paths=True, file_extensions=EXTENSIONS)
    readings = ds.map_batches(
        ReadNumbers,
        fn_constructor_kwargs={"threads": args.threads, "model": args.model,
                               "min_confidence": args.min_confidence},
        batch_size=args.batch_size,
        concurrency=args.workers,
        num_cpus=args.threads,
    )
    root = os.path.abspath(args.dir) if local else None
    n = failed = accepted = 0
    with open(args.out, "w") as out:
        for row in readings.iter_rows():
            path = row["file"]
            if root is not None:
                path = os.path.relpath(path if os.path.isabs(path) else "/" + path, root)
            line = {"file": path, "text": row["text"], "confidence": row["confidence"]}
            if args.min_confidence is not None:
                line["accepted"] = row["accepted"]
                accepted += bool(row["accepted"])
            if row["error"] is not None:
                line = {"file": path, "error": row["error"]}
                failed += 1
            out.write(json.dumps(line) + "\n")
            n += 1
    took = time.perf_counter() - started
    print(f"read {n} pictures ({failed} failed) in {took:.1f}s into {args.out}", file=sys.stderr)
    if args.min_confidence is not None:
        print(f"{accepted} of {n - failed} read with a confidence of at least "
              f"{args.min_confidence}; the rest to check by hand", file=sys.stderr)
    ray.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
