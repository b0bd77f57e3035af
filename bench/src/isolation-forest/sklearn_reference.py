#!/usr/bin/env python3
"""scikit-learn's IsolationForest measured on the data the Helios bench hands it.

Usage: python3 sklearn_reference.py SPEC.json > RESULT.json

SPEC (written by suite.ts):
  {"trees": 100, "sampleSize": 256, "seeds": [0, 1, ...],
   "datasets": [{"name": str, "rows": int, "cols": int, "data": [row-major floats]}],
   "timing": {"dataset": name, "trainRepeats": int, "scoreOneCalls": int, "scoreManyRepeats": int}}

RESULT:
  {"versions": {...},
   "scores": {name: [[-score_samples(X) for each seed]]},   # higher = more anomalous, like Helios
   "timing": {"trainMs": [...], "scoreOneUs": [...], "scoreManyUsPerRow": [...]}}

Timing is single-threaded (n_jobs=None), wall clock from time.perf_counter, after warm-up calls.
"""
import json
import platform
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest


def forest(trees, sample_size, rows, seed):
    return IsolationForest(n_estimators=trees, max_samples=min(sample_size, rows), random_state=seed)


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    trees = spec["trees"]
    sample_size = spec["sampleSize"]

    matrices = {}
    scores = {}
    for dataset in spec["datasets"]:
        x = np.asarray(dataset["data"], dtype=np.float64).reshape(dataset["rows"], dataset["cols"])
        matrices[dataset["name"]] = x
        scores[dataset["name"]] = [
            (-forest(trees, sample_size, len(x), seed).fit(x).score_samples(x)).tolist() for seed in spec["seeds"]
        ]

    timing_spec = spec["timing"]
    x = matrices[timing_spec["dataset"]]

    train_ms = []
    for i in range(2 + timing_spec["trainRepeats"]):
        start = time.perf_counter()
        model = forest(trees, sample_size, len(x), i).fit(x)
        elapsed = (time.perf_counter() - start) * 1e3
        if i >= 2:
            train_ms.append(elapsed)

    single_rows = [x[i : i + 1] for i in range(len(x))]
    for i in range(50):
        model.score_samples(single_rows[i % len(x)])
    score_one_us = []
    for i in range(timing_spec["scoreOneCalls"]):
        row = single_rows[i % len(x)]
        start = time.perf_counter()
        model.score_samples(row)
        score_one_us.append((time.perf_counter() - start) * 1e6)

    model.score_samples(x)
    score_many_us = []
    for _ in range(timing_spec["scoreManyRepeats"]):
        start = time.perf_counter()
        model.score_samples(x)
        score_many_us.append((time.perf_counter() - start) * 1e6 / len(x))

    json.dump(
        {
            "versions": {
                "python": platform.python_version(),
                "sklearn": sklearn.__version__,
                "numpy": np.__version__,
            },
            "scores": scores,
            "timing": {"trainMs": train_ms, "scoreOneUs": score_one_us, "scoreManyUsPerRow": score_many_us},
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
