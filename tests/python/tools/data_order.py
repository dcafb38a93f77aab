"""Prints the digits' stratified split and an epoch order as jepa_torch computes them (JSON), for the .NET test that
compares them with TorchSharp's.    python3 data_order.py SEED EPOCH"""
import json
import sys

import programs
from jepa_torch import data as D

seed, epoch = int(sys.argv[1]), int(sys.argv[2])
digits = D.read_csv(str(programs.REPO / "data/digits.csv.gz"))
train, test = D.stratified_split(digits.labels, 0.25, seed)
print(json.dumps({"train": train, "test": test, "order": D.epoch_order(len(train), seed, epoch).tolist()}))
