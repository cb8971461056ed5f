import joblib
import numpy
import torch
import json
import marshal
import pickle
import shelve

import cPickle
import dill
import jsonpickle
import yaml


def unpickle(blob: bytes, fh) -> None:
    # ruleid: python-pickle-load
    pickle.loads(blob)
    # ruleid: python-pickle-load
    pickle.load(fh)
    # ruleid: python-pickle-load
    cPickle.loads(blob)
    # ruleid: python-pickle-load
    dill.loads(blob)
    # ruleid: python-pickle-load
    pickle.Unpickler(fh).load()
    # ok: python-pickle-load
    json.loads(blob)
    # ok: python-pickle-load
    pickle.dumps({"a": 1})


def aliased(blob: bytes) -> None:
    from pickle import loads as unsafe

    # ruleid: python-pickle-load
    unsafe(blob)


def load_yaml(text: str) -> None:
    # ruleid: python-yaml-unsafe-load
    yaml.load(text)
    # ruleid: python-yaml-unsafe-load
    yaml.load(text, Loader=yaml.Loader)
    # ruleid: python-yaml-unsafe-load
    yaml.unsafe_load(text)
    # ruleid: python-yaml-unsafe-load
    yaml.load_all(text, Loader=yaml.UnsafeLoader)
    # ok: python-yaml-unsafe-load
    yaml.load(text, Loader=yaml.SafeLoader)
    # ok: python-yaml-unsafe-load
    yaml.load(text, yaml.CSafeLoader)
    # ok: python-yaml-unsafe-load
    yaml.safe_load(text)
    # ruleid: python-yaml-unsafe-load
    yaml.load(text, yaml.FullLoader)
    # ok: python-yaml-unsafe-load
    yaml.load(text, Loader=yaml.CBaseLoader)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    # ok: python-yaml-unsafe-load
    yaml.load(text, Loader=loader)


def other(blob: bytes) -> None:
    # ruleid: python-marshal-load
    marshal.loads(blob)
    # ok: python-marshal-load
    marshal.dumps(blob)
    # ruleid: python-shelve-open
    db = shelve.open("cache.db")
    # ok: python-shelve-open
    opened = open("cache.db", "rb")
    # ruleid: python-jsonpickle-decode
    jsonpickle.decode(blob)
    # ok: python-jsonpickle-decode
    jsonpickle.encode({"a": 1})
    return db, opened


def models(path):
    # ruleid: python-pickle-load
    model = joblib.load(path)
    # ruleid: python-pickle-load
    weights = torch.load(path)
    # ok: python-pickle-load
    weights = torch.load(path, weights_only=True)
    # ruleid: python-pickle-load
    array = numpy.load(path, allow_pickle=True)
    # ok: python-pickle-load
    array = numpy.load(path)
    return model, weights, array
