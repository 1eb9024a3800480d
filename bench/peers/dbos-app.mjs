// DBOS (TypeScript SDK on PostgreSQL) running the bench's workflow: STEPS durable steps, each
// answering at once with what it was given, as rmaflow's builtin.noop does. POST /run with
// {"rma_id": ...} runs one workflow (its id the RMA's, as a platform's retry would send) and
// answers with its result once it has ended.
import http from 'node:http';
import { DBOS } from '@dbos-inc/dbos-sdk';

const steps = Number(process.env.STEPS ?? 7);
const port = Number(process.env.PORT ?? 0);

DBOS.setConfig({
  name: 'rmaflow-peer-bench',
  systemDatabaseUrl: process.env.DBOS_SYSTEM_DATABASE_URL,
  logLevel: 'warn',
  ...(process.env.DBOS_POOL_SIZE ? { systemDatabasePoolSize: Number(process.env.DBOS_POOL_SIZE) } : {}),
});

async function noop(rma, n) {
  return { rma, n };
}

const bench = DBOS.registerWorkflow(
  async function bench(rma) {
    let last = null;
    for (let n = 1; n <= steps; ++n) {
      last = await DBOS.runStep(() => noop(rma, n), { name: `step${n}` });
    }
    return { status: 'completed', steps, last };
  },
  { name: 'bench' },
);

function answer(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

await DBOS.launch();
const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/run') return answer(res, 404, { error: 'POST /run' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const rma = JSON.parse(Buffer.concat(chunks).toString())?.rma_id;
      if (typeof rma !== 'string' || rma === '') return answer(res, 400, { error: 'rma_id: a string' });
      const handle = await DBOS.startWorkflow(bench, { workflowID: rma })(rma);
      answer(res, 200, await handle.getResult());
    } catch (e) {
      answer(res, 500, { error: String(e) });
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.log(`dbos-app listening on ${server.address().port}`));
