#!/usr/bin/env python3
"""Apache Otava's change points for series read as JSON from stdin.

Input: {"series": [[v0, v1, ...], ...], "configs": [{"name": ..., "max_pvalue": ...,
"min_magnitude": ..., "window_len": ...}, ...]}. Output (stdout, JSON): {"otava": version,
"results": {config name: [[index, ...] per series]}, "seconds": {config name: wall seconds}}.
An index is the first value after the shift (Otava's ChangePoint.index), as m17 reports it.
Used by bench/changepoints.ts; needs `pip install apache-otava`.
"""
import json
import sys
import time
from importlib.metadata import version

from otava.analysis import compute_change_points


def main() -> None:
    request = json.load(sys.stdin)
    results, seconds = {}, {}
    for config in request["configs"]:
        started = time.perf_counter()
        found = []
        for series in request["series"]:
            points, _weak = compute_change_points(
                [float(v) for v in series],
                window_len=config.get("window_len", 50),
                max_pvalue=config["max_pvalue"],
                min_magnitude=config["min_magnitude"],
            )
            found.append(sorted(int(p.index) for p in points))
        results[config["name"]] = found
        seconds[config["name"]] = time.perf_counter() - started
    json.dump({"otava": version("apache-otava"), "results": results, "seconds": seconds}, sys.stdout)


if __name__ == "__main__":
    main()
