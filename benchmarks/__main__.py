"""Run the benchmark modules (all, or those named) and record them in docs/benchmarks.md."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

import benchmarks
from benchmarks.common import render, section

DOCS = Path(__file__).resolve().parent.parent / "docs"
RESULTS = DOCS / "benchmarks.json"


def main(names: list[str]) -> int:
    modules = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    unknown = sorted(set(names) - set(modules))
    if unknown:
        print(f"unknown benchmark module(s): {', '.join(unknown)}; known: {', '.join(modules)}", file=sys.stderr)
        return 2
    sections = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in names or modules:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"running {name} ...", flush=True)
        results = module.run()
        for r in results:
            print(f"  {r.name}: {r.value} (target {r.target}: {'met' if r.met else 'NOT met'})")
        sections[name] = section(module.TITLE, results)
        RESULTS.write_text(json.dumps(sections, indent=2, sort_keys=True) + "\n")
    (DOCS / "benchmarks.md").write_text(render(sections))
    print(f"wrote {DOCS / 'benchmarks.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
