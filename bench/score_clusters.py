#!/usr/bin/env python3
"""Scores a case file's latest link run against a generated campaign's ground truth.

usage: score_clusters.py CASE.db GROUND_TRUTH.csv [--naive] [--json]

Pairwise precision and recall over same-operator account pairs, adjusted Rand
index, fraud-account recall per operator type, benign accounts in
fraud-majority clusters, benign users of public prompt templates put in a
cluster with anyone else, and the ROC AUC of cluster risk (fraud-majority
clusters against benign ones, evaluation companies among the benign). With --naive, scores connected components over
any shared card or IP instead (the classic baseline), and times them with
networkx as the peer implementation.
"""
import csv, json, sqlite3, sys, time
from collections import Counter, defaultdict
from math import comb


def load_truth(path):
    truth = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            truth[row["account_id"]] = (row["operator_id"], row["operator_type"], row["label"])
    return truth


def clusters_from_run(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    members = defaultdict(list)
    for cluster, account in con.execute("SELECT cluster_id, account_id FROM cluster_members"):
        members[cluster].append(account)
    risk = dict(con.execute("SELECT cluster_id, risk_score FROM clusters"))
    return members, risk


def naive_components(db):
    """Connected components over any shared card fingerprint or IP (request or sign-up)."""
    import networkx as nx
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    edges = []
    for account, fingerprint in con.execute("SELECT a.account_id, p.fingerprint FROM payment_rows p JOIN account_rows a USING (account_pk)"):
        edges.append((account, "card:" + fingerprint))
    for account, ip in con.execute("""
            SELECT a.account_id, e.ip_pk FROM (SELECT DISTINCT account_pk, ip_pk FROM exchange_rows WHERE ip_pk IS NOT NULL) e
            JOIN account_rows a USING (account_pk)
            UNION SELECT account_id, signup_ip_pk FROM account_rows WHERE signup_ip_pk IS NOT NULL"""):
        edges.append((account, f"ip:{ip}"))
    started = time.perf_counter()
    graph = nx.Graph()
    graph.add_edges_from(edges)
    components = list(nx.connected_components(graph))
    seconds = time.perf_counter() - started  # building the graph and its components, not reading SQLite
    members = {}
    for index, component in enumerate(components):
        accounts = [node for node in component if not node.startswith(("card:", "ip:"))]
        if len(accounts) >= 2:
            members[index] = accounts
    return members, {}, seconds


def score(members, risk, truth):
    cluster_of = {}
    for cluster, accounts in members.items():
        for account in accounts:
            cluster_of[account] = cluster
    accounts = list(truth)
    # Unclustered accounts are singletons.
    labels_pred = {a: cluster_of.get(a, ("single", a)) for a in accounts}
    labels_true = {a: truth[a][0] for a in accounts}

    def pairs(counter):
        return sum(comb(n, 2) for n in counter.values())

    true_pairs = pairs(Counter(labels_true.values()))
    pred_pairs = pairs(Counter(labels_pred.values()))
    both = pairs(Counter((labels_true[a], labels_pred[a]) for a in accounts))
    n_pairs = comb(len(accounts), 2)
    expected = true_pairs * pred_pairs / n_pairs
    maximum = (true_pairs + pred_pairs) / 2
    ari = (both - expected) / (maximum - expected) if maximum != expected else 1.0
    precision = both / pred_pairs if pred_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0

    # Fraud recall per operator type: an account is recalled when its cluster's majority operator is its own.
    majority = {}
    for cluster, accs in members.items():
        majority[cluster] = Counter(truth[a][0] for a in accs if a in truth).most_common(1)[0][0]
    per_type = defaultdict(lambda: [0, 0])
    for a in accounts:
        operator, kind, label = truth[a]
        if label != "fraud":
            continue
        per_type[kind][1] += 1
        cluster = cluster_of.get(a)
        if cluster is not None and majority[cluster] == operator:
            per_type[kind][0] += 1

    fraud_clusters, benign_in_fraud, scored = set(), 0, []
    for cluster, accs in members.items():
        fraud = sum(truth[a][2] == "fraud" for a in accs if a in truth)
        is_fraud = fraud * 2 > len(accs)
        if is_fraud:
            fraud_clusters.add(cluster)
            benign_in_fraud += len(accs) - fraud
        if cluster in risk:
            scored.append((risk[cluster], is_fraud))
    # Benign people who paste public templates, put in a cluster with anyone else.
    public_merged = 0
    for cluster, accs in members.items():
        operators = {truth[a][0] for a in accs if a in truth}
        if len(operators) > 1:
            public_merged += sum(truth[a][1] == "public_template_user" for a in accs if a in truth)
    auc = None
    positives = [r for r, f in scored if f]
    negatives = [r for r, f in scored if not f]
    if positives and negatives:
        wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
        auc = wins / (len(positives) * len(negatives))
    return {
        "accounts": len(accounts), "clusters": len(members),
        "pairwise_precision": round(precision, 4), "pairwise_recall": round(recall, 4), "ari": round(ari, 4),
        "fraud_recall_by_type": {k: round(v[0] / v[1], 4) for k, v in sorted(per_type.items())},
        "benign_in_fraud_clusters": benign_in_fraud, "risk_auc": None if auc is None else round(auc, 4),
        "public_template_users_merged": public_merged,
    }


def main():
    db, truth_path = sys.argv[1], sys.argv[2]
    truth = load_truth(truth_path)
    if "--naive" in sys.argv:
        members, risk, seconds = naive_components(db)
        result = score(members, risk, truth)
        result["networkx_seconds"] = round(seconds, 3)
    else:
        members, risk = clusters_from_run(db)
        result = score(members, risk, truth)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
