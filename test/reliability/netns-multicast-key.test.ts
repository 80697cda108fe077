// Multicast with --key (and --verify) on real sockets: one sender and three receiver hosts in network namespaces
// this test creates (harness/netns.ts, 224.0.0.0/4 routed over each host's eth0; nothing in the root namespace).
// Each receiver's --key handshake goes by unicast (its own challenge), the data once to the group, sealed once
// for all of them; every receiver must commit the identical file. Needs root and iproute2; skips otherwise.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File, tempDir, writeSeededFile } from '../../harness/files.js';
import { CLIENT, SERVER } from '../../harness/paths.js';
import { createTopology, nsList, nsPrefix, startIn, type Topology } from '../../harness/netns.js';
import type { Proc } from '../../harness/procs.js';
import { rootSkipReason, testSeed } from './support.js';

const why = rootSkipReason('ip');
const HOSTS = [
  { name: 's', addr: '127.1.1.1' },
  ...[1, 2, 3].map((k) => ({ name: `r${k}`, addr: `127.1.1.${10 + k}` })),
];
const GROUP = '239.1.2.4';
const dir = tempDir('test');
let topology: Topology | undefined;
const running: Proc[] = [];
afterAll(() => {
  for (const p of running) p.child.kill('SIGKILL');
  topology?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe(`multicast on the --verify/--key wires, real hosts in namespaces${why ? ` — SKIPPED: ${why}` : ''}`, () => {
  for (const mode of ['--key', '--verify'] as const) {
    it.skipIf(why !== undefined)(`${mode}: 1 MiB to 3 receiver hosts through group ${GROUP}, P=0.05: every receiver commits the identical file`, { timeout: 90_000 }, async () => {
      topology ??= createTopology('mk', HOSTS, { multicast: true });
      const [sender, ...receivers] = topology.hosts;
      const seed = testSeed(`netns-multicast${mode}`);
      const d = path.join(dir, mode.slice(2));
      fs.mkdirSync(d);
      const src = path.join(d, 'src.bin');
      writeSeededFile(src, 1 << 20, seed);
      const key = path.join(d, 'key');
      fs.writeFileSync(key, `${'6b'.repeat(32)}\n`, { mode: 0o600 });
      const extra = mode === '--key' ? ['--key', key] : ['--verify'];
      const out = (i: number): string => path.join(d, `copy-${i}.bin`);
      const procs = receivers.map((h, i) => startIn(h!.ns, SERVER, ['--json', '--seed', `${seed}-${i}`, '--multicast', GROUP, '--interface', h!.addr, ...extra, '7735', out(i), '0.05']));
      running.push(...procs);
      await Promise.all(procs.map((p) => p.ready));
      const client = startIn(sender!.ns, CLIENT, ['--json', '--multicast', GROUP, '--interface', sender!.addr, ...extra, ...receivers.map((h) => h!.addr), '7735', src, '1400']);
      running.push(client);
      const c = await client.done;
      const servers = await Promise.all(procs.map((p) => p.done));
      expect(c.code, c.stderr).toBe(0);
      const summary = JSON.parse(c.stdout);
      expect(summary.wire).toBe(mode.slice(2));
      expect(summary.total.complete).toBe(3);
      // The data went to the group (sealed once for every receiver), not once per receiver.
      expect(summary.multicast.groupSent).toBeGreaterThan(700);
      for (const [i, s] of servers.entries()) {
        expect(s.code, s.stderr).toBe(0);
        expect(sha256File(out(i))).toBe(sha256File(src));
      }
      console.log(`[reliability] multicast ${mode}: 3/3 identical in ${(summary.total.timeMs / 1000).toFixed(2)} s, group ${summary.multicast.groupSent} + ${summary.multicast.groupRepairs} repairs, unicast repairs ${summary.multicast.unicastRepairs}`);
    });
  }

  it.skipIf(why !== undefined)('cleanup removes every namespace it created', () => {
    topology?.destroy();
    topology = undefined;
    expect(nsList().filter((n) => n.startsWith(nsPrefix('mk')))).toEqual([]);
  });
});
