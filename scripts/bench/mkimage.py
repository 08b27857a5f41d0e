#!/usr/bin/env python3
"""Writes an OCI image layout with N gzip layers made from host directories.

Usage: mkimage.py OUT_DIR TAG LAYERS DIR [DIR...]
The directories' files are dealt round-robin into LAYERS layers (by top-level
entry), so a 6-layer image of ~300 MB has ~50 MB layers. Only for benchmarks.
"""
import gzip, hashlib, io, json, os, sys, tarfile, time

out, tag, nlayers, dirs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)

def put(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    with open(f"{out}/blobs/sha256/{digest}", "wb") as f:
        f.write(data)
    return digest

entries = []
for d in dirs:
    for name in sorted(os.listdir(d)):
        entries.append(os.path.join(d, name))
buckets = [entries[i::nlayers] for i in range(nlayers)]
layers, diff_ids = [], []
for bucket in buckets:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path in bucket:
            t.add(path, arcname=path.lstrip("/"), recursive=True)
    data = raw.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(data).hexdigest())
    gz = gzip.compress(data, compresslevel=6, mtime=0)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                   "digest": "sha256:" + put(gz), "size": len(gz)})
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
config = json.dumps({"created": now, "architecture": "amd64", "os": "linux",
                     "config": {"Cmd": ["sh"]},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids},
                     "history": [{"created": now, "created_by": "mkimage.py"} for _ in layers]},
                    separators=(",", ":")).encode()
cfg = put(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "sha256:" + cfg, "size": len(config)},
                       "layers": layers}, separators=(",", ":")).encode()
man = put(manifest)
with open(f"{out}/index.json", "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + man,
        "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)
with open(f"{out}/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
print(f"{out}: {len(layers)} layers, {sum(l['size'] for l in layers) / 1e6:.0f} MB compressed")
