#!/usr/bin/env python3
"""Splink (DuckDB) as a competent analyst would configure it, on a casebook case file.

usage: splink_peer.py CASE.db GROUND_TRUTH.csv

One record per account: arrays of its cards, IPs, /24 (IPv4) or /48 (IPv6) blocks and
clients, its most used IP and client, email domain, country, and a template signature
(the most common opening of its first prompts, digits folded, when it opens at least a
third of them). Comparisons: array intersections for cards, IPs, blocks and clients;
exact matches with term-frequency adjustment for the most used IP and client, email
domain and template signature. u from random sampling, m by EM over two blocking
passes, then clusters at several match-probability thresholds; the best ARI against
the ground truth is reported (the most favourable reading for the peer).
Prints one JSON object: the scores of score_clusters.py plus threshold and seconds.
"""
import ipaddress, json, os, re, sqlite3, sys, tempfile, time
from collections import Counter, defaultdict

import duckdb
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
import splink.comparison_library as cl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score_clusters import load_truth, score  # noqa: E402


def block(ip):
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def records(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = {}
    for pk, account, email, country in con.execute("SELECT account_pk, account_id, email, country FROM account_rows"):
        domain = email.rsplit("@", 1)[1].lower() if email and "@" in email else None
        rows[pk] = {"unique_id": account, "email_domain": domain, "country": country, "cards": set(), "ips": Counter(),
                    "clients": Counter(), "openings": Counter(), "prompts": 0}
    for pk, fingerprint in con.execute("SELECT account_pk, fingerprint FROM payment_rows"):
        if pk in rows:
            rows[pk]["cards"].add(fingerprint)
    for pk, ip, agent, n in con.execute("""
            SELECT e.account_pk, i.ip, u.text, count(*) FROM exchange_rows e LEFT JOIN ip_rows i USING (ip_pk)
            LEFT JOIN user_agents u USING (user_agent_pk) GROUP BY 1, 2, 3"""):
        if pk in rows:
            if ip:
                rows[pk]["ips"][ip] += n
            if agent:
                rows[pk]["clients"][agent] += n
    # The first 20 prompts of each account, in time order.
    for pk, prompt in con.execute("""
            SELECT account_pk, prompt FROM (SELECT account_pk, prompt, row_number() OVER (PARTITION BY account_pk ORDER BY ts_ms) AS n
            FROM exchange_rows) WHERE n <= 20"""):
        if pk in rows and prompt:
            rows[pk]["prompts"] += 1
            rows[pk]["openings"][re.sub(r"\d+", "0", prompt.lower())[:48]] += 1
    out = []
    for r in rows.values():
        opening, count = r["openings"].most_common(1)[0] if r["openings"] else (None, 0)
        ips = list(r["ips"])
        out.append({
            "unique_id": r["unique_id"], "email_domain": r["email_domain"], "country": r["country"],
            "cards": sorted(r["cards"]), "ips": sorted(ips), "blocks": sorted({b for b in map(block, ips) if b}),
            "clients": sorted(r["clients"]),
            "main_ip": r["ips"].most_common(1)[0][0] if r["ips"] else None,
            "main_client": r["clients"].most_common(1)[0][0] if r["clients"] else None,
            "template": opening if r["prompts"] >= 5 and count * 3 >= r["prompts"] else None,
        })
    return out


def main():
    db, truth_path = sys.argv[1], sys.argv[2]
    truth = load_truth(truth_path)
    started = time.perf_counter()
    connection = duckdb.connect()
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for record in records(db):
            f.write(json.dumps(record) + "\n")
    connection.execute("CREATE TABLE accounts AS FROM read_json_auto(?)", [f.name])
    os.unlink(f.name)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.ArrayIntersectAtSizes("cards", [1]),
            cl.ArrayIntersectAtSizes("ips", [2, 1]),
            cl.ArrayIntersectAtSizes("blocks", [2, 1]),
            cl.ArrayIntersectAtSizes("clients", [1]),
            cl.ExactMatch("main_ip").configure(term_frequency_adjustments=True),
            cl.ExactMatch("main_client").configure(term_frequency_adjustments=True),
            cl.ExactMatch("email_domain").configure(term_frequency_adjustments=True),
            cl.ExactMatch("template").configure(term_frequency_adjustments=True),
            cl.ExactMatch("country"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("cards", arrays_to_explode=["cards"]),
            block_on("blocks", arrays_to_explode=["blocks"]),
            block_on("template"),
            block_on("email_domain"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    api = DuckDBAPI(connection=connection)
    linker = Linker(api.register("accounts"), settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match([block_on("cards", arrays_to_explode=["cards"])], recall=0.5)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    # When a case file is mostly one operator's accounts, EM can drive a level's m to 0 in a
    # pass, which Splink refuses; an analyst keeps the passes that train and goes on (levels
    # left untrained keep Splink's default m).
    for blocking in (block_on("template"), block_on("main_ip")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(blocking)
        except ValueError as error:
            print(f"splink_peer: an EM pass was skipped: {error}", file=sys.stderr)
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    best = None
    for threshold in (0.5, 0.8, 0.95, 0.99, 0.999):
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold).as_record_list()
        members = defaultdict(list)
        for row in clusters:
            members[row["cluster_id"]].append(row["unique_id"])
        members = {c: a for c, a in members.items() if len(a) >= 2}
        result = score(members, {}, truth)
        result["threshold"] = threshold
        if best is None or result["ari"] > best["ari"]:
            best = result
    best["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(best, sort_keys=True))


if __name__ == "__main__":
    main()
