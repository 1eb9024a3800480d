"""One client of bench/big-return/run.sh: starts a return of LINES lines, then sends SIGNALS
scans one after another, each answered before the next, and prints what they took. The lines
are scanned in ORDER: from the first, from the last, or shuffled (the same shuffle each run).
Then REFUSED scans of lines the return does not have, each refused, and what they took."""
import http.client
import json
import os
import random
import sys
import time
import urllib.parse

url, server, lines, signals, round_ = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:6])
order, refused = sys.argv[6], int(sys.argv[7])
address = urllib.parse.urlparse(url)
connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)


def post(target, body, expected=range(200, 300)):
    connection.request("POST", target, json.dumps(body), {"Content-Type": "application/json"})
    answer = connection.getresponse()
    text = answer.read()
    if answer.status not in expected:
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

# Scans of lines the return does not have (a mistyped id), each refused with 409 and kept nowhere.
cpu_before = server_cpu_seconds()
began = time.monotonic()
for i in range(refused):
    problem = post(f"/v1/instances/{instance}/signals/line_received",
                   {"match": f"X{i:05}", "payload": {"bin": "B-0"}}, expected=(409,))
    if "no branch" not in problem.get("detail", ""):
        sys.exit(f"big-return: a mistyped scan was refused for another reason: {problem!r}")
refused_seconds = time.monotonic() - began
refused_cpu = server_cpu_seconds() - cpu_before


def ms(q):
    return round(took[min(len(took) - 1, int(len(took) * q))] * 1000, 2)


with open(f"/proc/{server}/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

print(json.dumps({"round": round_, "lines": lines, "signals": signals, "order": order,
                  "start_seconds": round(start_seconds, 3),
                  "signals_per_s": round(signals / seconds, 1),
                  "answer_ms": {"p50": ms(0.5), "p99": ms(0.99), "max": ms(1.0)},
                  "server_cpu_ms_per_signal": round(cpu * 1000 / signals, 2),
                  "server_peak_mb": round(peak_kb / 1024),
                  **({"refused": refused, "refused_per_s": round(refused / refused_seconds, 1),
                      "server_cpu_ms_per_refused": round(refused_cpu * 1000 / refused, 2)}
                     if refused else {})}))
