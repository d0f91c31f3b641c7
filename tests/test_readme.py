"""README.md: its Python example runs as written, and the README names no path outside the repository."""

import math
import pathlib
import re
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _tutorial_block(text):
    """The first python block of the README's "A first model in Python" section."""
    section = text.split("\n## A first model in Python\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```python\n(.*?)^```", section, flags=re.S | re.M)[0]


def test_readme_python_example_trains():
    """The example builds a CRMN, compiles a training step and runs it three times on one batch: the loss is
    finite and falls (SGD on a fixed batch), and the first one is near ln(10), the cross-entropy of ten
    roughly equally likely classes (plus a small weight-decay term)."""
    out = subprocess.run([sys.executable, "-c", _tutorial_block(README)], capture_output=True, text=True, cwd=REPO,
                         timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    losses = [float(m) for m in re.findall(r"^step \d+: loss (\S+)$", out.stdout, flags=re.M)]
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses), out.stdout
    assert losses[2] < losses[1] < losses[0], losses
    assert abs(losses[0] - math.log(10)) < 1.0, losses


def test_docs_name_no_path_outside_the_repository():
    texts = {"README.md": README, "data/README.md": (REPO / "data" / "README.md").read_text(encoding="utf-8")}
    texts.update({f"docs/{p.name}": p.read_text(encoding="utf-8") for p in (REPO / "docs").glob("*.md")})
    for name, text in texts.items():
        assert not re.search(r"\.\./shared|/work/|/root/|/home/", text), name
        assert not re.search(r"(?i)\bissues? #?\d+|#\d+\b", text), name
