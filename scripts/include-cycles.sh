#!/usr/bin/env bash
# Fails when the modules in server/ include each other in a circle.
# A module is server/<m>.c; "a uses b" when a.c (or include/portico/a.h)
# includes portico/b.h and server/b.c exists. Prints every circle found
# (one per strongly connected component) and exits 1, else "none found".
# scripts/include-cycles.allow lists known circles still to be broken (one
# per line: the modules, space-separated, sorted); they are reported but do
# not fail the check, and an entry that no longer matches is reported too.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import os, re, sys
mods = sorted(f[:-2] for f in os.listdir("server") if f.endswith(".c"))
inc = re.compile(r'^\s*#\s*include\s+"portico/([A-Za-z0-9_]+)\.h"', re.M)
edges = {}
for m in mods:
    text = open(f"server/{m}.c").read()
    h = f"include/portico/{m}.h"
    if os.path.exists(h):
        text += open(h).read()
    edges[m] = sorted({t for t in inc.findall(text) if t != m and t in mods})
# Tarjan's strongly connected components.
index, low, stack, on, out = {}, {}, [], set(), []
def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: out.append(sorted(comp))
sys.setrecursionlimit(10000)
for m in mods:
    if m not in index: visit(m)
allowed = set()
if os.path.exists("scripts/include-cycles.allow"):
    for line in open("scripts/include-cycles.allow"):
        line = line.split("#", 1)[0].strip()
        if line:
            allowed.add(" ".join(sorted(line.split())))
failed = False
for comp in out:
    known = " ".join(comp) in allowed
    failed = failed or not known
    print(("known include circle (to break): " if known else "include circle: ") + " <-> ".join(comp))
    for a in comp:
        print(f"  {a} -> " + ", ".join(b for b in edges[a] if b in comp))
for a in sorted(allowed - {" ".join(c) for c in out}):
    print(f"include-cycles: the allowed circle '{a}' is gone: remove it from scripts/include-cycles.allow")
if failed:
    sys.exit(1)
print("include-cycles: no new circle" if out else "include-cycles: none found")
PY
