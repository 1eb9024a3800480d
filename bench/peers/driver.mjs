// The closed-loop client for every engine of the comparison: --concurrency clients, each
// starting a workflow through the engine's API and waiting for its end before it starts the
// next, on kept-alive connections. The same client for each engine, so that the numbers differ
// only by the engine. Prints one JSON report; exits non-zero if any workflow did not complete.
//   node driver.mjs --engine rmaflow|dbos|restate --url http://127.0.0.1:PORT [--label NAME]
//                   [--concurrency 16] [--count 2000] [--warmup 200] [--steps 7]
//                   [--cpu-of PID,PID...]
// With --cpu-of, the report also gives the CPU time the engine's processes used over the measured
// workflows (each PID with its children, living or ended, as /proc counts them), and the client's.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

function fail(message) {
  console.error(`driver: ${message}`);
  process.exit(2);
}
let args;
try {
  ({ values: args } = parseArgs({
    options: {
      engine: { type: 'string' },
      label: { type: 'string' },  // the report's name for the engine (default: --engine)
      url: { type: 'string' },
      concurrency: { type: 'string', default: '16' },
      count: { type: 'string', default: '2000' },
      warmup: { type: 'string', default: '200' },
      steps: { type: 'string', default: '7' },
      'cpu-of': { type: 'string', default: '' },
    },
  }));
} catch (e) {
  fail(e.message.split('\n')[0]);
}
// A whole number from `min` to 1,000,000, or the run stops with a sentence naming the option.
function count_of(name, min) {
  const text = args[name];
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < min || n > 1_000_000) {
    fail(`--${name} must be a whole number from ${min} to 1000000, not "${text}"`);
  }
  return n;
}
const concurrency = count_of('concurrency', 1);
const count = count_of('count', 1);
const warmup = count_of('warmup', 0);
const steps = count_of('steps', 1);
let base;
try {
  base = new URL(args.url ?? '');
} catch {
  fail(`--url must be an http:// address, not "${args.url ?? ''}"`);
}
const cpuOf = args['cpu-of'] === '' ? [] : args['cpu-of'].split(',');
if (!cpuOf.every((pid) => /^[1-9][0-9]{0,9}$/.test(pid))) {
  fail(`--cpu-of must be process ids separated by commas, not "${args['cpu-of']}"`);
}
const kRequestTimeoutMs = 120_000;  // a workflow's wait is 60 s: an engine silent longer is stuck
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
    req.setTimeout(kRequestTimeoutMs, () => {
      req.destroy(new Error(`${method} ${path}: no answer within ${kRequestTimeoutMs / 1000} s`));
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
const one = Object.hasOwn(engines, args.engine ?? '') ? engines[args.engine] : null;
if (!one) fail(`--engine must be one of ${Object.keys(engines).join(', ')}`);

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

// A process's fields in /proc/PID/stat after its name (which may hold spaces and parentheses):
// [0] is its state, [1] its parent, [11] to [14] its user and system ticks and those of its
// ended children (PostgreSQL's backends, for one, end into their postmaster's). Null once gone.
function statFields(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
const ticksOf = (f) => (f ? [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i]), 0) : 0);
const clockTicks = cpuOf.length ? Number(execFileSync('getconf', ['CLK_TCK']).toString()) : 100;
// The CPU seconds used so far by `pids` and their living children.
function engineCpuSeconds(pids) {
  if (!pids.length) return 0;
  let ticks = pids.reduce((sum, pid) => sum + ticksOf(statFields(pid)), 0);
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const f = statFields(entry);
    if (f && pids.includes(f[1])) ticks += ticksOf(f);
  }
  return ticks / clockTicks;
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.floor(p * (sorted.length - 1))] : 0;
}

let seconds, latencies, engineCpu, clientCpu;
try {
  await closedLoop(warmup, 'warmup');
  const engineBefore = engineCpuSeconds(cpuOf);
  const clientBefore = process.cpuUsage();
  ({ seconds, latencies } = await closedLoop(count, 'run'));
  engineCpu = engineCpuSeconds(cpuOf) - engineBefore;
  const client = process.cpuUsage(clientBefore);
  clientCpu = (client.user + client.system) / 1e6;
} catch (e) {
  fail(e.message);  // a workflow that did not complete, or an engine that did not answer
}
latencies.sort((a, b) => a - b);
const round = (x) => Math.round(x * 100) / 100;
console.log(JSON.stringify({
  engine: args.label ?? args.engine,
  concurrency, steps, workflows: count, seconds: round(seconds),
  workflows_per_s: round(count / seconds),
  workflow_latency_ms: { p50: round(percentile(latencies, 0.5)), p99: round(percentile(latencies, 0.99)),
                         max: round(latencies[latencies.length - 1]) },
  ...(cpuOf.length ? { engine_cpu_ms_per_workflow: round(engineCpu * 1000 / count),
                       engine_cores_busy: round(engineCpu / seconds) } : {}),
  client_cpu_ms_per_workflow: round(clientCpu * 1000 / count),
}));
agent.destroy();
