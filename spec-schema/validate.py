#!/usr/bin/env python3
"""Validate OCI config.json / state.json / features files against crabcan's schemas.

usage: validate.py config|state|features FILE...     (FILE "-" reads stdin)

Prints one line per problem, `FILE: <json path>: <message>`, with paths in the
same form crabcan's decoder uses (`.linux.namespaces[1].type`), and exits 1 if
any file has a problem, 0 if all are valid, 2 on bad usage.
"""
import decimal
import json
import os
import re
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = {"config": "config.schema.json", "state": "state.schema.json", "features": "features.schema.json"}
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def json_path(parts):
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif IDENT.match(p):
            out += "." + p
        else:  # annotation / sysctl keys such as "net.ipv4.ip_forward"
            out += "[" + json.dumps(p) + "]"
    return out or "."


def type_name(schema):
    t = schema.get("type")
    if t == "array" and schema.get("items", {}).get("type") == "string":
        return "array of strings"
    if t == "integer" and "minimum" in schema and "maximum" in schema:
        return f"integer in {schema['minimum']}...{schema['maximum']}"
    return t


def describe(err):
    """Return (path parts, message) for one jsonschema error."""
    path = list(err.absolute_path)
    value = err.instance
    if err.validator == "required":
        # Point at the missing field itself, as the decoder does.
        name = re.match(r"^'(.*)' is a required property$", err.message)
        return path + [name.group(1) if name else "?"], "required field is missing"
    if "x-message" in err.schema:
        return path, err.schema["x-message"].format(value=json.dumps(value, default=str))
    if err.validator in ("type", "minimum", "maximum") and type_name(err.schema):
        return path, "expected " + type_name(err.schema)
    if err.validator == "enum":
        choices = ", ".join(json.dumps(c) for c in err.validator_value)
        return path, f"unknown value {json.dumps(value, default=str)} (expected one of {choices})"
    return path, err.message


def reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def load(name):
    data = sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read()
    # Decimal for non-integers so 1.0 is not taken as an integer (the decoder
    # would refuse it); NaN/Infinity are Python extensions, not JSON.
    return json.loads(data, parse_float=decimal.Decimal, parse_constant=reject_constant)


def main(argv):
    if len(argv) < 3 or argv[1] not in SCHEMAS:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(os.path.join(HERE, SCHEMAS[argv[1]]), encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    failed = False
    for name in argv[2:]:
        try:
            doc = load(name)
        except OSError as e:
            print(f"{name}: cannot read: {e.strerror}")
            failed = True
            continue
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            print(f"{name}: invalid JSON: {e}")
            failed = True
            continue
        problems = set()
        for err in validator.iter_errors(doc):
            path, msg = describe(err)
            problems.add((json_path(path), msg))
        problems = sorted(problems)
        for path, msg in problems:
            print(f"{name}: {path}: {msg}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
