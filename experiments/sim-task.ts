// piscina task for `npm run experiments`: one simulated transfer (sim/scenario.ts runScenario), reduced to the
// few numbers the experiments record. Runs in a worker thread so the simulator points use both cores; the result
// is a pure function of the input (virtual time only).

import { runScenario } from '../sim/scenario.js';
import type { ScenarioInput } from '../sim/options.js';

export interface SimTaskResult {
  /** The last receiver's completion (virtual ms); NaN when the run did not terminate. */
  completionMs: number;
  /** Mean over receivers of each one's completion (virtual ms). */
  receiverMeanMs: number;
  segments: number;
  timeouts: number;
  retransmissions: number;
  /** Segments the receivers' loss service dropped; duplicates the receivers saw. */
  drops: number;
  duplicates: number;
  events: number;
  traceHash: string;
  ok: boolean;
  problem: string;
}

export default function simTask(input: ScenarioInput): SimTaskResult {
  const r = runScenario(input, false);
  const done = r.receivers.map((x) => x.doneAtMs ?? Number.NaN);
  const ok = r.allComplete && r.violationCount === 0 && r.stoppedBy === 'all-terminal';
  return {
    completionMs: r.completionMs ?? Number.NaN,
    receiverMeanMs: done.reduce((a, b) => a + b, 0) / done.length,
    segments: r.segments,
    timeouts: r.receivers.reduce((a, x) => a + x.timeouts, 0),
    retransmissions: r.receivers.reduce((a, x) => a + x.retransmissions, 0),
    drops: r.receivers.reduce((a, x) => a + x.lossServiceDrops, 0),
    duplicates: r.receivers.reduce((a, x) => a + x.receiverDuplicates, 0),
    events: r.eventsProcessed,
    traceHash: r.traceHash,
    ok,
    problem: ok ? '' : `stopped by ${r.stoppedBy}, ${r.violationCount} violations, all complete: ${r.allComplete}`,
  };
}
