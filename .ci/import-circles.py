"""The largest import circle among a crate's files: every `crate::a::b` path (in `use` lines and
in code), `super::x` path, and `use child::x` / `use self::child::x` (a module re-exporting its
child's items) is an edge from the file that names it to the file of the module it names; the
largest strongly connected component is the circle. A `mod child;` declaration is not an edge.

    python3 .ci/import-circles.py core/src sim/src

A development aid for the layering the design wants (no circle of more than 3 files); prints
each crate's largest circle with its files. Reads the sources only."""

import os
import re
import sys


def modules(src):
    """Module path (tuple) -> file, for every .rs file under src."""
    out = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), src)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            out[tuple(parts)] = os.path.join(src, rel)
    return out


def resolve(mods, path):
    """The file of the longest module prefix of `path`."""
    for k in range(len(path), -1, -1):
        if tuple(path[:k]) in mods:
            return mods[tuple(path[:k])]
    return None


def edges(mods):
    by_file = {f: m for m, f in mods.items()}
    graph = {f: set() for f in by_file}
    pat = re.compile(r"(?<![$\w])(crate|super)((?:::\w+)+)")
    group = re.compile(r"(?<![$\w])(crate|super)((?:::\w+)*)::\{([^}]*)\}")
    for f, m in by_file.items():
        text = open(f, encoding="utf-8").read()
        text = re.sub(r"//[^\n]*", "", text)
        found = []
        for root, rest in pat.findall(text):
            found.append((root, rest.strip(":").split("::")))
        for root, rest, inner in group.findall(text):
            base = rest.strip(":").split("::") if rest else []
            for item in inner.split(","):
                item = item.strip().split("::")[0].split(" ")[0]
                if item and item != "self":
                    found.append((root, base + [item]))
        # `use child::...` (or `self::child::...`), also `pub use` and `pub(crate) use`: the
        # module depends on its child's file for what it re-exports.
        for child, rest in re.findall(r"\buse\s+(?:self::)?(\w+)((?:::\w+)*)", text):
            if tuple(m) + (child,) in mods:
                found.append(("self", [child] + rest.strip(":").split("::")))
        for root, path in found:
            # `super::` from a file names its parent module's items.
            if root == "crate":
                full = path
            elif root == "self":
                full = list(m) + path
            else:
                full = list(m[:-1]) + path
            target = resolve(mods, full)
            if target and target != f:
                graph[f].add(target)
    return graph


def largest_scc(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in graph:
        if v not in index:
            visit(v)
    return max(out, key=len)


for src in sys.argv[1:]:
    comp = largest_scc(edges(modules(src)))
    print(f"{src}: largest import circle {len(comp)} files")
    for f in sorted(comp):
        print(f"  {os.path.relpath(f, src)}")
