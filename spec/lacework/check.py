#!/usr/bin/env python3
"""Self-check of the Lacework Edge contract files (schemas.json, operations.json).

Checks:
  * every `lacework` row of ../routes.tsv has an entry in operations.json with the same
    method, path and success_status (and operations.json has no other entries);
  * every path parameter in the route path is described in path_params;
  * every "$ref" (in schemas.json and in operations.json) resolves to a schemas.json $defs entry,
    and every named request_schema/response_schema exists;
  * schemas.json is a valid draft 2020-12 schema;
  * every $defs example, every response_sample and every request_sample validates against its
    schema, with refs resolved against schemas.json $defs;
  * extensions.json (the workbench's additions) extends only existing definitions, and adds only
    fields those definitions do not have.

Uses the `jsonschema` package when it is importable, otherwise a minimal built-in validator
covering the keywords these files use. Standard library otherwise.
Exit status 0 when everything passes, 1 otherwise.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROUTES = os.path.join(HERE, "..", "routes.tsv")
SCHEMAS = os.path.join(HERE, "schemas.json")
OPERATIONS = os.path.join(HERE, "operations.json")
EXTENSIONS = os.path.join(HERE, "extensions.json")
REF_PREFIX = "#/$defs/"

try:
    import jsonschema  # type: ignore
except ImportError:  # pragma: no cover - fallback path
    jsonschema = None

errors = []


def err(msg):
    errors.append(msg)


def load(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def walk_refs(node, where, defs):
    """Record every $ref that does not resolve to defs; return the number of unresolved refs."""
    bad = 0
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                if not isinstance(v, str) or not v.startswith(REF_PREFIX) or v[len(REF_PREFIX):] not in defs:
                    err("%s: unresolved $ref %r" % (where, v))
                    bad += 1
            elif k in ("examples", "request_sample", "response_sample"):
                continue  # data, not schema
            else:
                bad += walk_refs(v, where + "/" + k, defs)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            bad += walk_refs(v, "%s/%d" % (where, i), defs)
    return bad


# ---------------------------------------------------------------- minimal validator (fallback)
def _type_ok(value, t):
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    raise ValueError("unsupported type %r" % t)


def mini_validate(value, schema, defs, path="$"):
    out = []
    if "$ref" in schema:
        name = schema["$ref"][len(REF_PREFIX):]
        out += mini_validate(value, defs[name], defs, path)
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_type_ok(value, x) for x in types):
            return out + ["%s: %r is not of type %s" % (path, value, t)]
    if "enum" in schema and value not in schema["enum"]:
        out.append("%s: %r is not one of %r" % (path, value, schema["enum"]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append("%s: %r < minimum %r" % (path, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            out.append("%s: %r > maximum %r" % (path, value, schema["maximum"]))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        addl = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                out += mini_validate(v, props[k], defs, "%s.%s" % (path, k))
            elif addl is False:
                out.append("%s: additional property %r not allowed" % (path, k))
            elif isinstance(addl, dict):
                out += mini_validate(v, addl, defs, "%s.%s" % (path, k))
        for k in schema.get("required", []):
            if k not in value:
                out.append("%s: missing required %r" % (path, k))
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            out += mini_validate(v, schema["items"], defs, "%s[%d]" % (path, i))
    return out


def validate(instance, schema, defs):
    """Validate instance against schema (a $defs name or an inline schema); return list of messages."""
    if isinstance(schema, str):
        root = {"$ref": REF_PREFIX + schema}
    else:
        root = dict(schema)
    if jsonschema is not None:
        root = dict(root)
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        root["$defs"] = defs
        v = jsonschema.Draft202012Validator(root)
        return ["%s: %s" % ("$" + "".join("[%r]" % p for p in e.absolute_path), e.message)
                for e in v.iter_errors(instance)]
    return mini_validate(instance, root, defs)


def main():
    schemas = load(SCHEMAS)
    ops = load(OPERATIONS)
    defs = schemas.get("$defs", {})
    if not defs:
        err("schemas.json has no $defs")

    # schemas.json itself
    if jsonschema is not None:
        try:
            jsonschema.Draft202012Validator.check_schema(schemas)
        except jsonschema.exceptions.SchemaError as e:  # type: ignore
            err("schemas.json is not a valid 2020-12 schema: %s" % e.message)
    for name, d in defs.items():
        if d.get("type") != "object" or d.get("additionalProperties") is not False or "properties" not in d:
            err("$defs/%s: expected a closed object schema" % name)
        if "required" in d:
            err("$defs/%s: has 'required' (the vendor marks no field required)" % name)
    if walk_refs(schemas, "schemas.json", defs):
        return report(defs, [])

    # routes.tsv
    rows = {}
    with open(ROUTES, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        for line in fh:
            cells = line.rstrip("\n").split("\t")
            if len(cells) < len(header):
                continue
            row = dict(zip(header, cells))
            if row["api"] == "lacework":
                rows[row["id"]] = row
    op_ids = [k for k in ops if not k.startswith("$")]
    for rid, row in rows.items():
        e = ops.get(rid)
        if e is None:
            err("%s: missing from operations.json" % rid)
            continue
        if e.get("method") != row["method"]:
            err("%s: method %r != routes.tsv %r" % (rid, e.get("method"), row["method"]))
        if e.get("path") != row["path"]:
            err("%s: path %r != routes.tsv %r" % (rid, e.get("path"), row["path"]))
        if e.get("success_status") != int(row["success_status"]):
            err("%s: success_status %r != routes.tsv %r" % (rid, e.get("success_status"), row["success_status"]))
    for rid in op_ids:
        if rid not in rows:
            err("%s: in operations.json but not a lacework row of routes.tsv" % rid)

    keys = ["operation", "method", "path", "success_status", "error_statuses", "path_params", "query_params",
            "request_schema", "response_schema", "request_sample", "response_sample", "notes"]
    for rid in op_ids:
        e = ops[rid]
        where = "operations.json/" + rid
        for k in keys:
            if k not in e:
                err("%s: missing key %r" % (where, k))
        if not isinstance(e.get("error_statuses"), list) or e.get("success_status") in e.get("error_statuses", []):
            err("%s: bad error_statuses" % where)
        names = re.findall(r"\{([^}]+)\}", e.get("path", ""))
        if sorted(names) != sorted(e.get("path_params", {})):
            err("%s: path_params %r do not match path %r" % (where, list(e.get("path_params", {})), e.get("path")))
        if walk_refs(e, where, defs):
            continue  # cannot validate samples against a schema with dangling refs
        for kind in ("request", "response"):
            sch = e.get(kind + "_schema")
            sample = e.get(kind + "_sample")
            if isinstance(sch, str) and sch not in defs:
                err("%s: %s_schema %r is not in schemas.json $defs" % (where, kind, sch))
                continue
            if sch is None:
                if sample is not None:
                    err("%s: %s_sample without %s_schema" % (where, kind, kind))
                continue
            if sample is None:
                continue
            for m in validate(sample, sch, defs):
                err("%s: %s_sample: %s" % (where, kind, m))

    # every definition's own example
    for name, d in defs.items():
        for i, ex in enumerate(d.get("examples", [])):
            for m in validate(ex, name, defs):
                err("$defs/%s/examples/%d: %s" % (name, i, m))

    # the workbench's additions extend existing definitions with new fields only
    for name, fields in load(EXTENSIONS).items():
        if name.startswith("$"):
            continue
        if name not in defs:
            err("extensions.json: %s is not a schemas.json definition" % name)
            continue
        for field in fields:
            if field in defs[name].get("properties", {}):
                err("extensions.json: %s.%s is already the vendor's field" % (name, field))

    return report(defs, op_ids)


def report(defs, op_ids):
    checker = "jsonschema" if jsonschema is not None else "built-in minimal validator"
    if errors:
        for m in errors:
            print("FAIL", m)
        print("%d problem(s); %d defs, %d operations (%s)" % (len(errors), len(defs), len(op_ids), checker))
        return 1
    print("OK: %d defs, %d operations (%s)" % (len(defs), len(op_ids), checker))
    return 0


if __name__ == "__main__":
    sys.exit(main())
