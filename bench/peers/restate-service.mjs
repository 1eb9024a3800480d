// A Restate service running the bench's workflow: STEPS durable steps (ctx.run, journaled by
// the Restate server), each answering at once with what it was given, as rmaflow's
// builtin.noop does. Clients call it through the server's ingress: POST /bench/run with
// {"rma_id": ...}, answered with its result once it has ended.
import * as restate from '@restatedev/restate-sdk';

const steps = Number(process.env.STEPS ?? 7);
const port = Number(process.env.PORT ?? 9080);

const bench = restate.service({
  name: 'bench',
  handlers: {
    run: async (ctx, input) => {
      let last = null;
      for (let n = 1; n <= steps; ++n) {
        last = await ctx.run(`step${n}`, async () => ({ rma: input.rma_id, n }));
      }
      return { status: 'completed', steps, last };
    },
  },
});

restate.serve({ services: [bench], port });
