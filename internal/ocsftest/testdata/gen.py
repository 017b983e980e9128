#!/usr/bin/env python3
"""Builds ocsf-1.8.0-subset.schema.json: a JSON Schema (2020-12) of the two
OCSF classes siemsync emits, API Activity (6003) and Scheduled Job Activity
(1006), from the OCSF schema sources (github.com/ocsf/ocsf-schema, tag
1.8.0). Only the output is needed by the tests; this script records how it
was made:

    git clone https://github.com/ocsf/ocsf-schema && cd ocsf-schema
    git checkout 1.8.0 && python3 PATH/internal/ocsftest/testdata/gen.py . > PATH/internal/ocsftest/testdata/ocsf-1.8.0-subset.schema.json

What it checks: every attribute name of the classes and of the objects
siemsync writes (no others: additionalProperties false), each attribute's
type (string, integer, number, boolean, object, array), the regex of typed
strings (ip_t, …), required attributes, at_least_one constraints, integer
enums (activity_id, severity_id, status_id, run_state_id, type_id, …),
class_uid, category_uid and type_uid (= class_uid * 100 + activity_id). Profile attributes are left out:
siemsync declares no profile. Objects siemsync does not write are checked
only as JSON objects.
"""
import json, os, sys

root = sys.argv[1]
def load(p):
    with open(os.path.join(root, p)) as f:
        return json.load(f)

dic = load("dictionary.json")
types = dic["types"]["attributes"]
DATTR = dic["attributes"]

# Objects whose inside is checked: those siemsync writes.
DEEP = ["metadata", "product", "user", "actor", "network_endpoint", "device", "api", "http_request", "job"]

def object_file(name):
    return load(f"objects/{name}.json")

def merged(chain_loader, name):
    """attributes, constraints of an object or event with its extends chain
    (parents first), without $include'd profile attributes."""
    d = chain_loader(name)
    attrs, cons = {}, {}
    if d.get("extends") and d["extends"] not in ("object",):
        attrs, cons = merged(chain_loader, d["extends"])
        attrs = {k: dict(v) for k, v in attrs.items()}
    for k, v in d.get("attributes", {}).items():
        if k == "$include":
            continue
        a = attrs.setdefault(k, {})
        for kk, vv in v.items():
            if kk == "enum":
                e = dict(a.get("enum", {}))
                e.update(vv)
                a["enum"] = e
            else:
                a[kk] = vv
    if d.get("constraints"):
        cons = d["constraints"]
    return attrs, cons

EVENT_FILES = {"base_event": "events/base_event.json", "application": "events/application/application.json",
               "api_activity": "events/application/api_activity.json", "system": "events/system/system.json",
               "scheduled_job_activity": "events/system/scheduled_job_activity.json"}
def event_loader(name):
    return load(EVENT_FILES[name])

def prim(t):
    while t in types and types[t].get("type"):
        t = types[t]["type"]
    return {"string_t": "string", "integer_t": "integer", "long_t": "integer", "float_t": "number",
            "boolean_t": "boolean", "json_t": None}.get(t)

def attr_schema(name, a, owner_enum=None):
    d = DATTR.get(name, {})
    t = a.get("type") or d.get("type")
    # An attribute's values are the dictionary's (e.g. 0 Unknown, 99
    # Other) plus those the object or class adds.
    enum = dict(d.get("enum") or {}, **(a.get("enum") or {})) or None
    if t in types or t in ("string_t", "integer_t", "long_t", "float_t", "boolean_t", "json_t"):
        p = prim(t)
        s = {"type": p} if p else {}
        tt = types.get(t, {})
        if tt.get("regex"):
            s["pattern"] = tt["regex"]
        if tt.get("max_len"):
            s["maxLength"] = tt["max_len"]
        if enum and p == "integer":
            s["enum"] = sorted(int(k) for k in enum)
        if enum and p == "string" and name == "http_method":
            s["enum"] = sorted(enum)
    elif t == "object":
        s = {"type": "object"}
    elif t in DEEP:
        s = {"$ref": f"#/$defs/{t}"}
    else:
        s = {"type": "object"}
    if d.get("is_array"):
        s = {"type": "array", "items": s}
    return s

def shape(attrs, cons):
    props = {k: attr_schema(k, v) for k, v in sorted(attrs.items())}
    out = {"type": "object", "properties": props, "additionalProperties": False}
    req = sorted(k for k, v in attrs.items() if v.get("requirement") == "required")
    if req:
        out["required"] = req
    if cons.get("at_least_one"):
        out["anyOf"] = [{"required": [k]} for k in cons["at_least_one"]]
    if cons.get("just_one"):
        out["oneOf"] = [{"required": [k]} for k in cons["just_one"]]
    return out

defs = {}
for o in DEEP:
    defs[o] = shape(*merged(object_file, o))

def event_schema(name, class_uid, category_uid):
    attrs, cons = merged(event_loader, name)
    s = shape(attrs, cons)
    acts = s["properties"]["activity_id"]["enum"]
    s["properties"]["class_uid"] = {"const": class_uid}
    s["properties"]["category_uid"] = {"const": category_uid}
    s["properties"]["type_uid"] = {"enum": [class_uid * 100 + a for a in acts]}
    s["properties"]["activity_id"] = {"enum": acts}
    # type_uid is class_uid * 100 + activity_id.
    s["oneOf"] = [{"properties": {"activity_id": {"const": a}, "type_uid": {"const": class_uid * 100 + a}}}
                  for a in acts]
    return s

schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://siemsync.example/ocsf-1.8.0-subset.schema.json",
    "title": "OCSF 1.8.0 API Activity (6003) and Scheduled Job Activity (1006), the attributes siemsync uses",
    "$defs": dict(defs, api_activity=event_schema("api_activity", 6003, 6),
                  scheduled_job_activity=event_schema("scheduled_job_activity", 1006, 1)),
    "oneOf": [{"$ref": "#/$defs/api_activity"}, {"$ref": "#/$defs/scheduled_job_activity"}],
}
json.dump(schema, sys.stdout, indent=1, sort_keys=True)
print()
