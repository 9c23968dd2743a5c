"""examples/python/ray_read.py on a local Ray cluster of 2 reader workers."""

import json
import subprocess
import sys

import pytest
from PIL import Image

import digits
from conftest import ROOT, number_picture

pytest.importorskip("ray.data", reason="Ray Data is not installed (scripts/test_python.sh installs it)")


def test_ray_reads_a_folder(mnist, tmp_path):
    pictures = tmp_path / "pictures"
    (pictures / "sub").mkdir(parents=True)
    expected = {}
    level = 0.9
    for k in range(5):
        name = f"sub/n{k}.png" if k % 2 else f"n{k}.png"
        Image.fromarray(number_picture(mnist, [k, k + 1, k + 2])).save(pictures / name)
        expected[name] = digits.read(pictures / name)
    (pictures / "broken.png").write_bytes(b"not a picture")
    out = tmp_path / "results.jsonl"
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples/python/ray_read.py"), str(pictures),
         "--out", str(out), "--workers", "2", "--threads", "1", "--batch-size", "2",
         "--min-confidence", str(level)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 1, run.stderr[-3000:]  # the broken picture fails the run
    assert "read 6 pictures (1 failed)" in run.stderr, run.stderr[-3000:]
    sure = sum(r["confidence"] >= level for r in expected.values())
    assert f"{sure} of 5 read with a confidence of at least {level}" in run.stderr, run.stderr[-3000:]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    by_file = {line["file"]: line for line in lines}
    assert set(by_file) == set(expected) | {"broken.png"}
    assert "not" in by_file["broken.png"]["error"] and "text" not in by_file["broken.png"]
    for name, reading in expected.items():
        assert by_file[name]["text"] == reading["text"]
        assert by_file[name]["confidence"] == pytest.approx(reading["confidence"])
        assert by_file[name]["accepted"] == (reading["confidence"] >= level)
