"""The one reader of the YAML files of a knowledge root (rules/*.yaml, rules/facts.yaml).

PyYAML's C parser (libyaml) reads the rule files about ten times faster than its
pure-Python parser and gives the same data; the pure-Python safe loader is used where
PyYAML was built without libyaml. Both build plain data only (no Python objects)."""

from __future__ import annotations

from typing import Any


class YAMLError(ValueError):
    """A document that is not valid YAML (PyYAML's message)."""


def read_yaml(text: str) -> Any:
    """The data of a YAML document; raises YAMLError when it is not valid YAML."""
    # third-party import kept lazy: a run that takes its rules from the disk cache
    # (cmlkb.knowledge.cache) reads no YAML and does not pay for importing PyYAML
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise YAMLError(str(exc)) from exc
