#!/usr/bin/env bash
# A day of returns on the embedded default: 53 RMAs and marketplace cases from the web shop,
# EDI, customer service and a marketplace run through the shipped workflows against a simulated
# ERP, carrier, warehouse, payment provider, vendor and marketplace, in virtual time: parcels take days, an RMA waits 30
# days before it expires, and the whole month passes in seconds. One binary, one database
# file (plus each simulated system's own).
#   examples/demo.sh [path/to/rmaflow] [--check]
# With --check the script also verifies the outcomes (CTest runs it that way).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=${1:-$root/build/rmaflow}
check=${2:-}
work=$(dirname "$bin")/demo
rm -rf "$work" && mkdir -p "$work"
cp "$here/sim/adapters.yaml" "$here/sim/erp-data.yaml" "$work/"  # the systems' files land in state/
db="$work/returns.db"
start=2025-06-02T08:00:00Z

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() {
  "$bin" run --db "$db" --workflows "$root/workflows" --adapters "$work/adapters.yaml" \
    --clock virtual --start "$start" "$@"
}
id_of() {
  "$bin" list --db "$db" --business-key "$1" --format json |
    sed -n 's/^ *"id": "\([0-9A-Z]*\)",$/\1/p' | head -n 1
}

say "Validate the shipped workflows"
"$bin" validate "$root"/workflows/*.yaml

say "A day of returns: 53 RMAs, 6 workflows and their children (database: $db)"
began=$(date +%s%N)
run --metrics "$work/metrics.txt" "$here/returns-day.json" | tee "$work/run.txt"  # + /metrics' view
ms=$((($(date +%s%N) - began) / 1000000))
printf 'wall time: %d.%03d s for the month of virtual time above\n' $((ms / 1000)) $((ms % 1000))

say "Line by line: each RMA line's disposition and credit"
sqlite3 -separator '  ' "$db" "SELECT printf('%-9s', i.business_key), printf('%-15s', i.workflow),
    printf('%-3s', l.value ->> 'key'), printf('%-19s', l.value ->> 'status'),
    iif(l.value ->> '$.output.grade' IS NULL, '', 'grade ' || (l.value ->> '$.output.grade')),
    iif(l.value ->> '$.output.amount' IS NULL, '', printf('credit %.2f', l.value ->> '$.output.amount')),
    iif(coalesce(l.value ->> '$.output.restocking_fee', 0) = 0, '',
        printf('less fee %.2f', l.value ->> '$.output.restocking_fee')),
    iif(l.value ->> '$.output.clawed_back' IS NULL, '',
        printf('clawed back %.2f', l.value ->> '$.output.clawed_back'))
  FROM instances i JOIN instance_contexts c ON c.instance_id = i.id, json_each(c.context, '$.lines') l
  ORDER BY i.business_key, l.key" | tee "$work/lines.txt"

say "Back to the vendor: lines graded C, each in a vendor-return child (vendor RMA, shipment, credit note)"
sqlite3 -separator '  ' "$db" "SELECT printf('%-11s', business_key), printf('%-10s', CASE status WHEN 10 THEN 'completed'
    WHEN 3 THEN 'suspended' WHEN 14 THEN 'failed' ELSE 'waiting' END),
    printf('%-9s', context ->> '$.vendor_rma.vendor_rma_id'),
    iif(context ->> '$.vendor_credit.amount' IS NULL, '', printf('vendor credit %.2f (%s)',
        context ->> '$.vendor_credit.amount', context ->> '$.vendor_credit.credit_note_id')),
    iif(context ->> '$.scrap.scrap_id' IS NULL, '', 'refused, scrapped as ' || (context ->> '$.scrap.scrap_id'))
  FROM instances JOIN instance_contexts ON instance_id = id WHERE workflow = 'vendor-return'
  ORDER BY business_key" | tee "$work/vendor.txt"

say "Return to credit: from the RMA to the money (credit memo or refund), per workflow"
# The time each RMA took until its credit memo or refund was posted, in virtual time.
sqlite3 -separator ' ' "$db" "SELECT i.workflow, e.at - i.created_at FROM instances i
    JOIN events e ON e.instance_id = i.id AND e.type = 4 AND e.step IN ('credit_memo', 'refund')
  ORDER BY i.workflow, e.at - i.created_at" |
  awk '{ n[$1]++; v[$1, n[$1]] = $2 }
    function d(ms) { return sprintf("%dd %02dh%02dm%02ds", ms / 86400000, (ms % 86400000) / 3600000, (ms % 3600000) / 60000, (ms % 60000) / 1000) }
    END { for (w in n) { m = v[w, int((n[w] + 1) / 2)]; printf "%-20s %2d credited  median %s  worst %s\n", w, n[w], d(m), d(v[w, n[w]]) } }' |
  sort | tee "$work/credit-times.txt"

say "What needs a person"
"$bin" list --db "$db" --stuck

rma=RMA-1004
say "Timeline of $rma: the customer never ships; after 30 days the label and the authorization are voided"
"$bin" history --db "$db" "$(id_of $rma)" | cut -c1-150

say "Finance releases Summit Print's credit hold; an operator retries RMA-1006's credit memo"
# A clerk's change in the ERP, which rmaflow does not own.
sqlite3 "$work/state/erp.db" "UPDATE documents SET body = json_set(body, '$.credit_hold', json('false'))
  WHERE type = 'customer' AND id = 'C-107'"
"$bin" retry --db "$db" "$(id_of RMA-1006)" --actor ops --reason "credit hold released by finance"
run | tee "$work/repair.txt"

say "Run the day again: every RMA is known, nothing runs twice"
run "$here/returns-day.json" | tail -n 3

say "The same day over HTTP: rmaflow-mock serves the ERP, carrier, warehouse, payment provider, vendor and marketplace; its first hour"
http=$work/http
mkdir -p "$http"
cp "$here/sim/adapters.yaml" "$here/sim/erp-data.yaml" "$http/"
"$(dirname "$bin")/rmaflow-mock" --adapters "$http/adapters.yaml" --listen 127.0.0.1:0 \
  --start "$start" > "$http/mock.txt" 2>&1 &
mock=$!
trap 'kill "$mock" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 100); do  # the mock prints its port once it listens
  port=$(sed -n 's|^rmaflow-mock: serving on http://127.0.0.1:\([0-9]*\)$|\1|p' "$http/mock.txt" 2>/dev/null || true)
  [ -n "$port" ] && break
  kill -0 "$mock" 2>/dev/null || { cat "$http/mock.txt" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "rmaflow-mock did not start" >&2; exit 1; }
sed "s|http://127.0.0.1:8090|http://127.0.0.1:$port|" "$here/http/adapters.yaml" > "$http/http-adapters.yaml"
# The parcels, scans and credit reviews would come back from the mock as signals to an rmaflow
# server (rmaflow-mock --signals-to); this run stops after the day's first hour.
"$bin" run --db "$http/returns.db" --workflows "$root/workflows" --adapters "$http/http-adapters.yaml" \
  --clock virtual --start "$start" --until 1h "$here/returns-day.json" | tail -n 3 | tee "$work/http.txt"
kill "$mock"

say "Return-to-credit: the day's RMAs, from their start to each milestone, by channel"
# Milestones are declared by the workflows (milestones:); times are the virtual month's.
"$bin" report sla --db "$db" --from 2025-06-02T00:00:00Z --to 2025-06-03T00:00:00Z --by channel \
  --now 2025-07-02T08:00:00Z | tee "$work/sla.txt"

if [ "$check" = "--check" ]; then
  fail() { echo "demo check failed: $*" >&2; exit 1; }
  expected="53 instance(s): 53 started, 0 resumed; 38 completed, 4 expired, 9 rejected, 2 suspended"
  grep -qxF "$expected" "$work/run.txt" || fail "the day ended otherwise: $(grep 'instance(s)' "$work/run.txt")"
  grep -q "RMA-1006 .* completed" "$work/repair.txt" || fail "RMA-1006 was not completed by the retry"
  status() { "$bin" show --db "$db" "$(id_of "$1")" | sed -n 's/^status *//p'; }
  q() { sqlite3 "$work/state/$1.db" "$2"; }
  [ "$(status RMA-1004)" = expired ] || fail "RMA-1004 did not expire"
  [ "$(q carrier "SELECT status FROM documents WHERE type = 'label' AND rma_id = 'RMA-1004'")" = voided ] ||
    fail "the label of RMA-1004 was not voided"
  [ "$(q wms "SELECT count(*) FROM documents WHERE type = 'scrap'")" -ge 2 ] || fail "nothing was scrapped"
  [ "$(q erp "SELECT count(*) FROM documents WHERE type = 'replacement_order' AND status = 'released'")" -ge 3 ] ||
    fail "no replacement was ordered"
  [ "$(q erp "SELECT status FROM documents WHERE type = 'replacement_order' AND rma_id = 'RMA-2003'")" = cancelled ] ||
    fail "the reversed advance replacement was not cancelled"
  [ "$(q erp "SELECT count(*) FROM documents WHERE type = 'charge' AND rma_id = 'RMA-2002'")" = 1 ] ||
    fail "the unreturned advance replacement was not charged"
  [ "$(q carrier "SELECT count(*) FROM effects WHERE operation = 'create_label' AND calls > 1")" -gt 0 ] ||
    fail "no label request was retried"
  [ "$(status RMA-1023)" = suspended ] || fail "RMA-1023's bad address did not stop for an operator"
  grep -q "RMA-1026 .* L2 .* refurbished .* grade B .* credit 44.91 .* less fee 4.99" "$work/lines.txt" ||
    fail "the mixed RMA's second line was not refurbished and credited less its fee"
  grep -q "RMA-1026 .* L3 .* scrapped .* grade D .* credit 50.00" "$work/lines.txt" ||
    fail "the mixed RMA's third line was not scrapped and credited"
  [ "$(q wms "SELECT count(DISTINCT json_extract(body, '$.line_id')) FROM documents WHERE rma_id = 'RMA-1026'
      AND type IN ('restock', 'refurbishment', 'scrap')")" = 3 ] || fail "RMA-1026's lines were not disposed of one by one"
  [ "$(q payments "SELECT status FROM documents WHERE type = 'hold' AND rma_id = 'RMA-4002'")" = captured ] ||
    fail "the hold of RMA-4002, never dropped off, was not captured"
  [ "$(q payments "SELECT json_extract(body, '$.amount') FROM documents WHERE type = 'reversal' AND rma_id = 'RMA-4001'")" = 99.8 ] ||
    fail "the line of RMA-4001 found not as described was not clawed back"
  [ "$(q carrier "SELECT count(*) FROM documents WHERE type = 'claim' AND rma_id = 'RMA-4003'")" = 1 ] ||
    fail "the parcel of RMA-4003, lost in transit, was not claimed"
  [ "$(q payments "SELECT count(*) FROM documents WHERE type = 'refund'")" = 4 ] ||
    fail "the instant refunds were not paid once each"
  grep -q "^instant-refund .* median 0d 00h0" "$work/credit-times.txt" || fail "instant refunds were not credited at once"
  grep -q "^RMA-1003/L1 .* completed .* vendor credit 213.60" "$work/vendor.txt" || fail "the vendor did not credit RMA-1003's line"
  grep -q "^RMA-1021/L1 .* completed .* refused, scrapped as SCR-" "$work/vendor.txt" ||
    fail "RMA-1021's line refused by the vendor was not scrapped"
  [ "$(status RMA-1003)" = completed ] || fail "RMA-1003 was not closed once the vendor credited it"
  grep -q "^standard-return .* median 3d" "$work/credit-times.txt" || fail "the standard returns' median is not the 3 days of transit"
  # Parcels per line (RMA-1030): the one that arrived credited, the unused label voided, the lost one claimed.
  grep -q "RMA-1030 .* L1 .* restocked .* credit 270.30" "$work/lines.txt" || fail "RMA-1030's arrived line was not credited"
  [ "$(q carrier "SELECT status FROM documents WHERE type = 'label' AND rma_id = 'RMA-1030' AND json_extract(body, '$.line_id') = 'L2'")" = voided ] ||
    fail "RMA-1030's unused label was not voided"
  [ "$(q carrier "SELECT count(*) FROM documents WHERE type = 'claim' AND rma_id = 'RMA-1030'")" = 1 ] ||
    fail "RMA-1030's lost parcel was not claimed"
  # The risk desk: three laptops refunded 80%, a frequent returner denied, a swapped laptop quarantined.
  grep -q "RMA-1031 .* L1 .* restocked .* credit 2649.96" "$work/lines.txt" || fail "RMA-1031 was not partially refunded"
  [ "$(status RMA-1032)" = rejected ] || fail "RMA-1032 was not denied by the risk desk"
  [ "$(q erp "SELECT status FROM documents WHERE type = 'authorization' AND rma_id = 'RMA-1032'")" = void ] ||
    fail "RMA-1032's authorization was not voided"
  grep -q "RMA-1033 .* L1 .* quarantined .* credit 0.00" "$work/lines.txt" || fail "RMA-1033's swapped unit was not quarantined"
  # Warranty repairs: two repaired (one paid for by the customer's accepted quote), one replaced.
  [ "$(q vendor "SELECT count(*) FROM documents WHERE type = 'repair_order'")" = 3 ] || fail "the warranty lines were not sent for repair"
  [ "$(q erp "SELECT count(*) FROM documents WHERE type = 'charge' AND rma_id = 'RMA-6002'")" = 1 ] ||
    fail "the accepted repair quote of RMA-6002 was not charged"
  [ "$(q erp "SELECT count(*) FROM documents WHERE type = 'replacement_order' AND rma_id = 'RMA-6003'")" = 1 ] ||
    fail "the unrepairable unit of RMA-6003 was not replaced"
  # Marketplace cases: each resolved, the returned one refunded once.
  for c in MKT-5001 MKT-5002 MKT-5003; do [ "$(status $c)" = completed ] || fail "$c was not resolved"; done
  [ "$(q marketplace "SELECT count(*) FROM documents WHERE type = 'buyer_refund' AND rma_id = 'MKT-5002'")" = 1 ] ||
    fail "the returned marketplace case was not refunded once"
  for system in erp carrier wms payments vendor marketplace; do
    [ "$(q $system "SELECT count(*) FROM effects WHERE effects > 1")" = 0 ] ||
      fail "$system applied an effect twice"
  done
  [ -z "$(q carrier "SELECT rma_id FROM documents WHERE type = 'label'
      GROUP BY rma_id, json_extract(body, '$.line_id'), json_extract(body, '$.direction') HAVING count(*) > 1")" ] ||
    fail "a parcel got two labels"
  [ -z "$(q erp "SELECT rma_id FROM documents WHERE type = 'credit_memo' GROUP BY rma_id HAVING count(*) > 1")" ] ||
    fail "an RMA was credited twice"
  http_expected="53 instance(s): 53 started, 0 resumed; 3 completed, 7 rejected, 1 suspended, 42 waiting"
  grep -qxF "$http_expected" "$work/http.txt" || fail "over HTTP: $(grep 'instance(s)' "$work/http.txt")"
  [ "$(sqlite3 "$http/state/erp.db" "SELECT count(*) FROM documents WHERE type = 'credit_memo'")" = 3 ] ||
    fail "over HTTP the ERP did not credit the three returnless refunds"
  [ "$(sqlite3 "$http/state/payments.db" "SELECT count(*) FROM documents WHERE type = 'refund'")" = 4 ] ||
    fail "over HTTP the payment provider did not pay the four instant refunds"
  grep -Eq '^standard-return +credited +web +[0-9]+ +[1-9]' "$work/sla.txt" ||
    fail "the report has no return-to-credit time for the web shop's standard returns"
  grep -Eq '^returnless-refund +credited ' "$work/sla.txt" || fail "the report misses returnless refunds"
  echo "demo check: ok"
fi
