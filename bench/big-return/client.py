"""One client of bench/big-return/run.sh: starts a return of LINES lines, then sends SIGNALS
scans one after another, each answered before the next, and prints what they took. The lines
are scanned in ORDER: from the first, from the last, or shuffled (the same shuffle each run)."""
import http.client
import json
import os
import random
import sys
import time
import urllib.parse

url, server, lines, signals, round_ = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:6])
order = sys.argv[6]
address = urllib.parse.urlparse(url)
connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)


def post(target, body):
    connection.request("POST", target, json.dumps(body), {"Content-Type": "application/json"})
    answer = connection.getresponse()
    text = answer.read()
    if answer.status >= 300:
        sys.exit(f"big-return: POST {target} answered {answer.status}: {text[:300]!r}")
    return json.loads(text)


def server_cpu_seconds():
    with open(f"/proc/{server}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


items = [{"line_id": f"L{i:05}", "sku": f"SKU-{i * 7:06}", "qty": 1 + i % 3,
          "reason": "arrived with the outer carton crushed on one corner"} for i in range(lines)]
began = time.monotonic()
instance = post("/v1/instances", {"workflow": "big-return", "input": {"lines": items}})["id"]
start_seconds = time.monotonic() - began

scanned = list(range(lines))
if order == "last":
    scanned.reverse()
elif order == "shuffled":
    random.Random(7).shuffle(scanned)
cpu_before = server_cpu_seconds()
took = []
began = time.monotonic()
for i in scanned[:signals]:
    sent = time.monotonic()
    post(f"/v1/instances/{instance}/signals/line_received",
         {"match": f"L{i:05}", "payload": {"bin": f"B-{i % 17}"}, "idempotency_key": f"scan-{i}"})
    took.append(time.monotonic() - sent)
seconds = time.monotonic() - began
cpu = server_cpu_seconds() - cpu_before
took.sort()


def ms(q):
    return round(took[min(len(took) - 1, int(len(took) * q))] * 1000, 2)


print(json.dumps({"round": round_, "lines": lines, "signals": signals, "order": order,
                  "start_seconds": round(start_seconds, 3),
                  "signals_per_s": round(signals / seconds, 1),
                  "answer_ms": {"p50": ms(0.5), "p99": ms(0.99), "max": ms(1.0)},
                  "server_cpu_ms_per_signal": round(cpu * 1000 / signals, 2)}))
