#!/usr/bin/python3
"""PyYAML's SafeLoader (cloud-init's reading of cloud-config) over YAML documents: a JSON list
of texts on stdin, a JSON list of trees on stdout. A scalar is [type, str(value)] (repr for a
float, base64 for binary), a mapping {"map": [[key, value], ...]}, a list {"seq": [...]}, a
document PyYAML refuses {"error": message}."""
import base64, datetime, json, sys
import yaml


def tree(value):
    if isinstance(value, dict):
        return {"map": [[tree(k), tree(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return {"seq": [tree(v) for v in value]}
    if value is None:
        return ["null", "None"]
    if isinstance(value, bool):
        return ["bool", str(value)]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return ["timestamp", str(value)]
    if isinstance(value, bytes):
        return ["binary", base64.b64encode(value).decode()]
    return ["str", value]


def main():
    out = []
    for text in json.load(sys.stdin):
        try:
            out.append(tree(yaml.safe_load(text)))
        except Exception as error:  # noqa: BLE001 - any refusal is the answer
            out.append({"error": str(error).splitlines()[0]})
    json.dump(out, sys.stdout)


main()
