// The closed-loop client for every engine of the comparison: --concurrency clients, each
// starting a workflow through the engine's API and waiting for its end before it starts the
// next, on kept-alive connections. The same client for each engine, so that the numbers differ
// only by the engine. Prints one JSON report; exits non-zero if any workflow did not complete.
//   node driver.mjs --engine rmaflow|dbos|restate --url http://127.0.0.1:PORT [--label NAME]
//                   [--concurrency 16] [--count 2000] [--warmup 200] [--steps 7]
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string' },
    label: { type: 'string' },  // the report's name for the engine (default: --engine)
    url: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    count: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '200' },
    steps: { type: 'string', default: '7' },
  },
});
const concurrency = Number(args.concurrency);
const count = Number(args.count);
const warmup = Number(args.warmup);
const steps = Number(args.steps);
const base = new URL(args.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const run = `${process.pid}-${Date.now()}`;  // a fresh id per run: no start is a repeat

function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { host: base.hostname, port: base.port, method, path, agent,
        headers: payload ? { 'Content-Type': 'application/json',
                             'Content-Length': Buffer.byteLength(payload) } : {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          try {
            resolve({ status: res.statusCode, body: JSON.parse(text) });
          } catch {
            reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
          }
        });
      });
    req.on('error', reject);
    req.end(payload);
  });
}

function check(ok, what, got) {
  if (!ok) throw new Error(`${args.engine}: ${what}: ${got.status} ${JSON.stringify(got.body).slice(0, 300)}`);
}

// One workflow, started and awaited to its end, as each engine's own clients do it.
const engines = {
  async rmaflow(rma) {
    let got = await request('POST', '/v1/instances?wait=60', { workflow: 'bench', input: { rma_id: rma } });
    check(got.status === 201, 'start', got);
    while (['running', 'waiting', 'compensating'].includes(got.body.status)) {  // not ended yet
      got = await request('GET', `/v1/instances/${got.body.id}?wait=60`);
      check(got.status === 200, 'wait', got);
    }
    check(got.body.status === 'completed', 'end', got);
  },
  async dbos(rma) {
    const got = await request('POST', '/run', { rma_id: rma });
    check(got.status === 200 && got.body.status === 'completed' && got.body.steps === steps, 'run', got);
  },
  async restate(rma) {
    const got = await request('POST', '/bench/run', { rma_id: rma });
    check(got.status === 200 && got.body.status === 'completed' && got.body.steps === steps, 'run', got);
  },
};
const one = engines[args.engine];
if (!one) throw new Error(`--engine must be one of ${Object.keys(engines).join(', ')}`);

async function closedLoop(total, prefix) {
  let next = 0;
  const latencies = [];
  const began = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < total; i = next++) {
      const t = performance.now();
      await one(`RMA-${prefix}-${run}-${i}`);
      latencies.push(performance.now() - t);
    }
  }));
  return { seconds: (performance.now() - began) / 1000, latencies };
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.floor(p * (sorted.length - 1))] : 0;
}

await closedLoop(warmup, 'warmup');
const { seconds, latencies } = await closedLoop(count, 'run');
latencies.sort((a, b) => a - b);
const round = (x) => Math.round(x * 100) / 100;
console.log(JSON.stringify({
  engine: args.label ?? args.engine,
  concurrency, steps, workflows: count, seconds: round(seconds),
  workflows_per_s: round(count / seconds),
  workflow_latency_ms: { p50: round(percentile(latencies, 0.5)), p99: round(percentile(latencies, 0.99)),
                         max: round(latencies[latencies.length - 1]) },
}));
agent.destroy();
