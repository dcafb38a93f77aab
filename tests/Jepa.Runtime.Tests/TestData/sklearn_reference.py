#!/usr/bin/python3
"""Reference numbers for the linear-probe, ridge-probe and kNN cross-check (tests/Jepa.Runtime.Tests/Evaluation).

Run once from the repository root with Debian's scikit-learn (apt-get install python3-sklearn):
    /usr/bin/python3 tests/Jepa.Runtime.Tests/TestData/sklearn_reference.py
It writes sklearn_reference.json and random_projection.csv next to itself. Not needed at test time.

Data: data/digits.csv.gz (64 pixels 0..16, then the label). Split: sample i is a test sample when i % 4 == 0.
Feature sets: "pixels" = pixels / 16; "projection" = tanh((pixels / 16) @ R) with R (64 x 32) from
numpy.random.default_rng(2024).standard_normal / 4, stored in random_projection.csv with 17 significant digits.
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.neighbors import KNeighborsClassifier

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", "..", ".."))
raw = np.loadtxt(os.path.join(root, "data", "digits.csv.gz"), delimiter=",")
pixels, labels = raw[:, :64] / 16.0, raw[:, 64].astype(int)
test = np.arange(len(labels)) % 4 == 0
train = ~test

R = np.random.default_rng(2024).standard_normal((64, 32)) / 4.0
np.savetxt(os.path.join(here, "random_projection.csv"), R, delimiter=",", fmt="%.17g")
R = np.loadtxt(os.path.join(here, "random_projection.csv"), delimiter=",")   # exactly what C# reads
features = {"pixels": pixels, "projection": np.tanh(pixels @ R)}


def objective(model, x, y):
    """mean cross-entropy + ||W||^2 / (2 C N): scikit-learn's objective divided by N (intercept not penalised)."""
    logits = x @ model.coef_.T + model.intercept_
    logits -= logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    ce = -log_probs[np.arange(len(y)), y].mean()
    return ce + (model.coef_ ** 2).sum() / (2 * model.C * len(y))


out = {"sklearn": sklearn.__version__, "numpy": np.__version__, "train": int(train.sum()), "test": int(test.sum()), "sets": {}}
for name, x in features.items():
    entry = {}
    lr = LogisticRegression(C=1.0, max_iter=100000, tol=1e-10)
    lr.fit(x[train], labels[train])
    entry["logistic"] = {
        "accuracy": float(lr.score(x[test], labels[test])),
        "objective": float(objective(lr, x[train], labels[train])),
        "iterations": int(lr.n_iter_[0]),
        "predictions": "".join(str(p) for p in lr.predict(x[test])),
    }
    # The online evaluation's probe: RidgeClassifier(alpha=1) with an intercept, solved in closed form.
    ridge = RidgeClassifier(alpha=1.0, solver="cholesky").fit(x[train], labels[train])
    entry["ridge"] = {
        "accuracy": float(ridge.score(x[test], labels[test])),
        "coef": ridge.coef_.T.ravel().tolist(),          # (D, C), row-major
        "intercept": ridge.intercept_.tolist(),
        "predictions": "".join(str(p) for p in ridge.predict(x[test])),
    }
    for k in (5, 20):
        knn = KNeighborsClassifier(n_neighbors=k, metric="cosine").fit(x[train], labels[train])
        entry[f"knn{k}"] = {
            "accuracy": float(knn.score(x[test], labels[test])),
            "predictions": "".join(str(p) for p in knn.predict(x[test])),
        }
    out["sets"][name] = entry
    print(name, {k: v["accuracy"] for k, v in entry.items()}, "objective", entry["logistic"]["objective"], file=sys.stderr)

with open(os.path.join(here, "sklearn_reference.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
