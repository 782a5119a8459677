"""The objects of the benchmarks.

Inputs are the bench's own: ElectricShardSets and the source Secrets their
shards point at. Everything the operator makes from them is taken from
`electric-operator render` (the operator's own planning code, offline), never
restated here: which children a set has (kinds and names, for the trackers),
the claims to pre-bind volumes to, and the objects the baselines apply.

render prints placeholders where a value lives in the cluster; the baselines
fill them in (make_concrete): the set's uid, the source Secrets' values, one
random API secret, and any other placeholder (the config hash) with a
64-hex-digit digest. The one object render names without printing it, in a
trailing comment ("# Secret S-api-secret is created once ..."), is made from
that name, the labels and owner all of the set's owned children share, and
the random API secret under the key `secret`: that key is the one thing
about the children written here rather than read from render.
"""

import base64
import hashlib
import json
import os
import re
import secrets as pysecrets
import shutil
import subprocess

SET_API_VERSION = "electric-operator.dev/v1alpha1"
SET_KIND = "ElectricShardSet"
# Marks the bench's own inputs, so that cleaning a namespace keeps them.
SOURCE_LABEL = "bench.electric-operator.dev/source"
SOURCE_KEY = "url"

_PLACEHOLDER = re.compile(r"^<[^<>]*>$")
_FROM_SECRET = re.compile(r"^<from Secret (\S+) key (\S+)>$")
_UNRENDERED = re.compile(r"^# (\w+) (\S+) is created\b")


def b64(text):
    return base64.b64encode(text.encode()).decode()


# --- Inputs ------------------------------------------------------------------------


def source_secret_name(set_name, shard):
    return f"{set_name}-pg-{shard}"


def db_url(ns, secret_name, password="bench-password-0000"):
    return f"postgresql://electric:{password}@{secret_name}.{ns}.db:5432/app"


def shard_set(ns, name, shards, storage_class=None):
    spec = {"shards": [{"name": str(i), "databaseURLSecretRef": {"name": source_secret_name(name, i),
                                                                 "key": SOURCE_KEY}}
                       for i in range(shards)]}
    if storage_class:
        spec["storage"] = {"storageClassName": storage_class}
    return {"apiVersion": SET_API_VERSION, "kind": SET_KIND,
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def source_secret(ns, name, url):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns,
                                                               "labels": {SOURCE_LABEL: "true"}},
            "data": {SOURCE_KEY: b64(url)}}


def source_values(set_obj):
    """{(Secret name, key): value} of the sources the bench creates for a set."""
    ns = set_obj["metadata"]["namespace"]
    out = {}
    for shard in set_obj["spec"]["shards"]:
        ref = shard["databaseURLSecretRef"]
        out[(ref["name"], ref["key"])] = db_url(ns, ref["name"])
    return out


def set_names(set_objs):
    return [s["metadata"]["name"] for s in set_objs]


def shard_count(set_objs):
    return sum(len(s["spec"]["shards"]) for s in set_objs)


# --- What the operator makes, from render ----------------------------------------------


class Rendered:
    """One set's children as render prints them: `objects` (manifests with
    placeholders) and `unrendered` ((kind, name) named in comments only)."""

    def __init__(self, set_obj, objects, unrendered):
        self.set_obj, self.objects, self.unrendered = set_obj, objects, unrendered

    def api_version_of(self, kind):
        for o in self.objects:
            if o["kind"] == kind:
                return o["apiVersion"]
        raise RuntimeError(f"render printed no {kind} to learn its apiVersion from")

    def expected(self):
        """{(apiVersion, kind): {names}} of every child the operator makes."""
        out = {}
        for o in self.objects:
            out.setdefault((o["apiVersion"], o["kind"]), set()).add(o["metadata"]["name"])
        for kind, name in self.unrendered:
            out.setdefault((self.api_version_of(kind), kind), set()).add(name)
        return out

    def of_kind(self, kind):
        return [o for o in self.objects if o["kind"] == kind]

    def common_labels(self):
        """The labels every child carries whatever its set: a selector for
        the children of all sets in a namespace (and their ReplicaSets and
        Pods, whose template carries them too)."""
        name = self.set_obj["metadata"]["name"]
        common = set.intersection(*(set(o["metadata"].get("labels", {}).items()) for o in self.objects))
        return {k: v for k, v in common if v != name}


class Renderer:
    """Runs `electric-operator render` and reads its YAML with yq (which
    install-deps.sh installs: seconds for 2,000 objects, where kubectl
    --dry-run=client takes minutes); with kubectl when there is no yq."""

    def __init__(self, operator_bin, kubectl, kubeconfig):
        self.operator_bin, self.kubectl, self.kubeconfig = operator_bin, kubectl, kubeconfig
        self.yq = shutil.which("yq")

    def render(self, set_obj):
        ns = set_obj["metadata"]["namespace"]
        p = subprocess.run([self.operator_bin, "render", "-f", "-", "--namespace", ns],
                           input=json.dumps(set_obj).encode(), capture_output=True)
        if p.returncode != 0:
            raise RuntimeError(f"electric-operator render failed: {p.stderr.decode()[-500:]}")
        if self.yq:
            cmd, env = [self.yq, "-c", "."], None
        else:
            cmd = [self.kubectl, "create", "--dry-run=client", "-o", "json", "-f", "-"]
            env = dict(os.environ, KUBECONFIG=self.kubeconfig)
        as_json = subprocess.run(cmd, input=p.stdout, capture_output=True, check=True, env=env).stdout.decode()
        return Rendered(set_obj, parse_json_stream(as_json), parse_unrendered(p.stdout.decode()))


def parse_json_stream(text):
    """Concatenated JSON values (one per YAML document); a List stands for
    its items, null (an empty document) for nothing."""
    objects, pos, dec = [], 0, json.JSONDecoder()
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        obj, pos = dec.raw_decode(text, pos)
        if obj is None:  # an empty document
            continue
        objects.extend(obj["items"] if obj.get("kind") == "List" else [obj])
    return objects


def parse_unrendered(text):
    """(kind, name) of the objects render names in a comment only."""
    return [(m.group(1), m.group(2)) for m in map(_UNRENDERED.match, text.splitlines()) if m]


def expected_children(rendered_list):
    out = {}
    for r in rendered_list:
        for key, names in r.expected().items():
            out.setdefault(key, set()).update(names)
    return out


def pvc_claims(rendered_list):
    """The PersistentVolumeClaims the operator will make, as render prints them."""
    return [pvc for r in rendered_list for pvc in r.of_kind("PersistentVolumeClaim")]


def is_placeholder(value):
    return isinstance(value, str) and bool(_PLACEHOLDER.match(value))


def make_concrete(rendered, set_uid, sources, api_secret=None):
    """The children of `rendered` as the operator would write them, for a
    baseline to apply: every placeholder filled in (see the module's doc).
    Raises if one is left, so a change in render's output stops the run
    instead of skewing it."""
    api_secret = api_secret or pysecrets.token_hex(32)
    set_name = rendered.set_obj["metadata"]["name"]
    out = []
    for obj in json.loads(json.dumps(rendered.objects)):
        meta = obj["metadata"]
        meta.pop("uid", None)
        for ref in meta.get("ownerReferences", []):
            if is_placeholder(ref.get("uid")):
                ref["uid"] = set_uid
        if obj["kind"] == "Secret" and "stringData" in obj:
            obj["data"] = {k: b64(_secret_value(v, sources, api_secret)) for k, v in obj.pop("stringData").items()}
        _fill_digests(obj, f"{set_uid}/{meta['name']}")
        out.append(obj)
    owned = [o["metadata"] for o in out if o["metadata"].get("ownerReferences")]
    for kind, name in rendered.unrendered:
        if kind != "Secret":
            raise RuntimeError(f"render names a {kind} {name} it does not print; the baseline cannot make it")
        common = dict(set.intersection(*(set(m.get("labels", {}).items()) for m in owned))) if owned else {}
        # Everything all the set's owned children share, the set's own name included.
        out.append({"apiVersion": rendered.api_version_of(kind), "kind": kind, "type": "Opaque",
                    "metadata": {"name": name, "namespace": rendered.set_obj["metadata"]["namespace"],
                                 "labels": common, "ownerReferences": owned[0]["ownerReferences"] if owned else []},
                    "data": {"secret": b64(api_secret)}})
    left = [p for o in out for p in _placeholders(o)]
    if left:
        raise RuntimeError(f"placeholders left in the children of {set_name}: {left[:3]}")
    return out


def _secret_value(placeholder, sources, api_secret):
    m = _FROM_SECRET.match(placeholder)
    if m:
        key = (m.group(1), m.group(2))
        if key not in sources:
            raise RuntimeError(f"render refers to Secret {key[0]} key {key[1]}, which the bench did not make")
        return sources[key]
    if is_placeholder(placeholder):
        return api_secret
    return placeholder


def _fill_digests(node, seed):
    """Any other placeholder (the config hash): a digest of the same length."""
    if isinstance(node, dict):
        for k, v in node.items():
            if is_placeholder(v):
                node[k] = hashlib.sha256(f"{seed}/{k}".encode()).hexdigest()
            else:
                _fill_digests(v, seed)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if is_placeholder(v):
                node[i] = hashlib.sha256(f"{seed}/{i}".encode()).hexdigest()
            else:
                _fill_digests(v, seed)


def _placeholders(node):
    if isinstance(node, dict):
        return [p for v in node.values() for p in _placeholders(v)]
    if isinstance(node, list):
        return [p for v in node for p in _placeholders(v)]
    return [node] if is_placeholder(node) else []


def deployment_sources(rendered):
    """{Deployment name: (source Secret, key)}: the first source Secret each
    Deployment's pods read, followed through render's output (an env
    secretKeyRef to a shard Secret whose value render shows as "<from Secret
    S key K>"). Editing that source must reach that Deployment."""
    shown = {s["metadata"]["name"]: s.get("stringData", {}) for s in rendered.of_kind("Secret")}
    out = {}
    for dep in rendered.of_kind("Deployment"):
        for c in dep["spec"]["template"]["spec"].get("containers", []):
            for env in c.get("env", []):
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                m = ref and _FROM_SECRET.match(shown.get(ref["name"], {}).get(ref["key"], ""))
                if m and dep["metadata"]["name"] not in out:
                    out[dep["metadata"]["name"]] = (m.group(1), m.group(2))
    return out


def pod_template(dep):
    """What a Deployment asks of its pods; an edit that reaches a shard
    (a new config hash, an image) changes it."""
    if not dep:
        return None
    return json.dumps(dep.get("spec", {}).get("template"), sort_keys=True)
