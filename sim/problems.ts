// What the properties demand of one finished run, beyond the observer's invariants: it terminated, every honest
// receiver's sender finished and its file is identical, a crashed one was given up on. Its own module (no
// fast-check) so that `npm run sim -- --replay` judges a counterexample exactly as the property did.

import type { ScenarioResult } from './scenario.js';

/** Every property, as a list of problems (empty = the run is correct). */
export function scenarioProblems(result: ScenarioResult): string[] {
  const problems: string[] = [];
  for (const v of result.violations) problems.push(`${v.kind} (receiver ${v.receiver}, t=${v.timeMs} ms): ${v.detail}`);
  if (result.violationCount > result.violations.length) problems.push(`... ${result.violationCount - result.violations.length} more violations`);
  if (result.stoppedBy !== 'all-terminal') {
    problems.push(`did not terminate: stopped by ${result.stoppedBy} at ${result.endMs} ms (liveness deadline ${result.deadlineMs} ms)`);
  }
  for (const x of result.receivers) {
    if (x.crashed) {
      if (x.senderStatus === 'sending') problems.push(`receiver ${x.index} crashed but its sender is still sending`);
      continue;
    }
    if (x.senderStatus !== 'done') problems.push(`receiver ${x.index}: sender ${x.senderStatus}${x.failReason ? ` (${x.failReason})` : ''}`);
    if (x.completedAtMs === undefined) problems.push(`receiver ${x.index} never wrote the end of file (status ${x.receiverStatus})`);
    if (!x.fileMatches) problems.push(`receiver ${x.index}: file differs (${x.writtenBytes} of ${result.file.length} bytes written)`);
    if (x.committed && !x.fileMatches) problems.push(`receiver ${x.index} COMMITTED a wrong file`);
    if (x.ackForUnsent !== 0 && result.options.corruptScope === 'checked') {
      problems.push(`receiver ${x.index}: sender counted ${x.ackForUnsent} ACKs for unsent segments`);
    }
  }
  return problems;
}
