"""Hostile exchange files for comparing two ingest builds: one to four files (JSON Lines or
CSV, gzip or plain, sizes around the writer's batch of 8,192 and its groups of 16), with exact
repeats (some right after their first line, so inside one group), conflicting repeats, broken
lines, and ids that ascend or are random UUIDs (which set the exchange-id index aside).

usage: hostile_exchanges.py SEED DIR     prints what it chose
"""
import json, random, sys, os, gzip, uuid
seed = int(sys.argv[1]); out = sys.argv[2]
r = random.Random(seed)
os.makedirs(out, exist_ok=True)
nfiles = r.randint(1, 4)
uuid_mode = r.random() < 0.35
dup_rate = r.choice([0.0, 0.001, 0.01, 0.05, 0.2])
conf_rate = r.choice([0.0, 0.001, 0.01, 0.05])
bad_rate = r.choice([0.0, 0.001, 0.02])
accounts = [f"acct-{i}" for i in range(r.randint(1, 300))]
seen = []  # (id, record dict)
nid = 0
def new_id():
    global nid
    nid += 1
    if uuid_mode: return str(uuid.UUID(int=r.getrandbits(128)))
    return f"ex-{nid:010d}"
def rec(eid):
    d = {"exchange_id": eid, "account_id": r.choice(accounts),
         "ts": f"2026-01-{r.randint(1,28):02d}T{r.randint(0,23):02d}:{r.randint(0,59):02d}:{r.randint(0,59):02d}Z"}
    if r.random() < .8: d["model"] = r.choice(["m1", "m2", "m3"])
    if r.random() < .8: d["ip"] = f"10.{r.randint(0,3)}.{r.randint(0,255)}.{r.randint(1,254)}"
    if r.random() < .5: d["input_tokens"] = r.randint(0, 5000)
    if r.random() < .7: d["prompt"] = "p" * r.randint(0, 50) + r.choice(["", "\n", "é", "\"q\""])
    if r.random() < .1: d["note_extra"] = r.randint(0, 9)
    return d
for f in range(nfiles):
    n = r.choice([1, 15, 16, 17, 300, 8191, 8192, 8193, r.randint(1, 25000)])
    csv = r.random() < 0.25
    lines = []
    for i in range(n):
        x = r.random()
        if seen and x < dup_rate:
            eid, d = r.choice(seen); lines.append(d)
        elif seen and x < dup_rate + conf_rate:
            eid, d = r.choice(seen); d2 = dict(d); d2["input_tokens"] = d.get("input_tokens", 0) + 1; lines.append(d2)
        elif x < dup_rate + conf_rate + bad_rate:
            lines.append(r.choice(["{bad json", {"exchange_id": new_id()}, {"exchange_id": new_id(), "account_id": "a", "ts": "notatime"}]))
        else:
            eid = new_id(); d = rec(eid); seen.append((eid, d)); lines.append(d)
        # an exact repeat right after its line: inside the same group of 16
        if lines and r.random() < dup_rate / 2 and isinstance(lines[-1], dict):
            lines.append(lines[-1])
    name = f"exchanges-{f:03d}." + ("csv" if csv else "jsonl")
    if csv:
        cols = ["exchange_id","account_id","ts","model","ip","input_tokens","prompt"]
        import csv as C, io
        buf = io.StringIO(); w = C.writer(buf, lineterminator="\n"); w.writerow(cols)
        for d in lines:
            if isinstance(d, str): buf.write(d.replace("{", "x,") + "\n"); continue
            w.writerow([d.get(c, "") for c in cols])
        data = buf.getvalue()
    else:
        data = "".join((d if isinstance(d, str) else json.dumps(d)) + "\n" for d in lines)
    if r.random() < .5:
        with gzip.open(os.path.join(out, name + ".gz"), "wt") as g: g.write(data)
    else:
        open(os.path.join(out, name), "w").write(data)
print(f"seed {seed}: {nfiles} files, {'UUID' if uuid_mode else 'ascending'} ids, repeats {dup_rate}, conflicts {conf_rate}, broken {bad_rate}")
