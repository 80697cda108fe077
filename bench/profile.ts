#!/usr/bin/env node
// npm run profile: profile a loopback transfer and leave the reports in .clinic/ (git-ignored).
//
//   1. clinic doctor  on p2mpclient  -> .clinic/<pid>.clinic-doctor.html
//   2. clinic flame   on p2mpclient  -> .clinic/<pid>.clinic-flame.html
//      (0x, under clinic flame, samples the main thread only; p2mpclient's loops run in worker threads,
//      so this flame shows start-up and the main thread's progress work, not the per-segment path)
//   3. clinic flame   on bench/probe-client --inline: the very same loops (send task, GroupLoop,
//      GroupSender) on the main thread, so the flame graph shows the sender's per-segment path
//   4. node --cpu-prof on p2mpclient (every thread, workers included) and on each p2mpserver, summarized
//      per thread (busy microseconds per segment, top functions by self time) in .clinic/profile-summary.md
//
// The transfer: 3 receivers (p2mpserver processes on 127.0.4.1-3), a generated file (seed 5), MSS 1000;
// P=0.02 for the clinic runs (the demo's setting), P=0 for the CPU profiles (per-segment cost only).
//
//   npm run profile [-- --size-mib 4] [--receivers 3] [--mss 1000] [--p 0.02] [--skip-clinic]

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { cachedSeededFile } from '../harness/files.js';
import { describeMachine, machine } from '../harness/machine.js';
import { DIST, ROOT } from '../harness/paths.js';
import { summarize as summarizeProfile } from './cpuprof-summary.js';
import { runTransfer, type TransferSpec } from './transfer.js';

interface Options {
  sizeMib: string;
  profSizeMib: string;
  receivers: string;
  mss: string;
  p: string;
  out: string;
  skipClinic?: boolean;
}

const PROBE = path.join(DIST, 'bench/probe-client.js');

function newest(dir: string, suffix: string, since: number): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(suffix) && fs.statSync(path.join(dir, f)).mtimeMs >= since)
    .sort((a, b) => fs.statSync(path.join(dir, b)).mtimeMs - fs.statSync(path.join(dir, a)).mtimeMs)[0];
}

async function main(o: Options): Promise<void> {
  const out = path.resolve(ROOT, o.out);
  fs.mkdirSync(out, { recursive: true });
  const work = fs.mkdtempSync(path.join(out, 'work-'));
  const n = Number(o.receivers);
  const mss = Number(o.mss);
  const bytes = Number(o.sizeMib) * 2 ** 20;
  const file = cachedSeededFile(work, bytes, 5);
  const clinic = createRequire(import.meta.url).resolve('clinic/bin.js');
  // clinic 13 does nothing at all (no collection, no report) unless its telemetry prompt is disabled.
  process.env.NO_INSIGHT = '1';
  const base: TransferSpec = { receivers: n, mode: 'independent', mss, file, fileBytes: bytes, p: Number(o.p), seed: 1, hosting: 'procs', workDir: work };
  const lines: string[] = [];
  const say = (l: string): void => {
    console.log(l);
    lines.push(l);
  };
  say(`# Profile of a loopback transfer\n\n${describeMachine(machine())}\n`);
  say(`Transfer: ${n} receivers (p2mpserver processes), ${o.sizeMib} MiB (seed 5), MSS ${mss}.\n`);
  try {
    if (!o.skipClinic) {
      for (const tool of ['doctor', 'flame'] as const) {
        const since = Date.now();
        const r = await runTransfer({ ...base, launcher: [process.execPath, clinic, tool, '--dest', out, '--'], launcherLabel: `clinic ${tool} --dest ${o.out} --` });
        const report = newest(out, `.clinic-${tool}.html`, since - 1000);
        say(`- clinic ${tool} on p2mpclient (P=${o.p}): \`${r.command}\` -> ${report ? path.relative(ROOT, path.join(out, report)) : 'NO REPORT (see clinic output below)'}; transfer ${(r.transferMs / 1000).toFixed(3)} s`);
        if (!report) console.error(r.clientStderr.slice(-2000));
        if (report && tool === 'doctor') {
          // The doctor's own verdict, as embedded in its report.
          const m = /"analysis": (\{.*?"issueCategory":"[a-z-]+"\})/.exec(fs.readFileSync(path.join(out, report), 'utf8'));
          if (m) {
            const a = JSON.parse(m[1]!) as { issues: Record<string, unknown>; issueCategory: string };
            say(`  doctor's verdict: issueCategory "${a.issueCategory}", issues ${JSON.stringify(a.issues)} (it watches the main thread's event loop, which only waits here: the loops run in worker threads)`);
          }
        }
      }
      const since = Date.now();
      const r = await runTransfer({ ...base, sender: { script: PROBE, args: ['--inline'] }, launcher: [process.execPath, clinic, 'flame', '--dest', out, '--'], launcherLabel: `clinic flame --dest ${o.out} --` });
      const report = newest(out, '.clinic-flame.html', since - 1000);
      say(`- clinic flame on the same loops on the main thread (P=${o.p}): \`${r.command}\` -> ${report ? path.relative(ROOT, path.join(out, report)) : 'NO REPORT'}; transfer ${(r.transferMs / 1000).toFixed(3)} s`);
    }

    // CPU profiles of every thread of the sender and of each receiver, P=0.
    const profDir = path.join(out, 'cpuprof');
    fs.rmSync(profDir, { recursive: true, force: true });
    const senderDir = path.join(profDir, 'sender');
    const receiverDir = path.join(profDir, 'receivers');
    const profBytes = Number(o.profSizeMib) * 2 ** 20;
    const profFile = cachedSeededFile(work, profBytes, 5);
    const r = await runTransfer({ ...base, file: profFile, fileBytes: profBytes, p: 0, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${senderDir}`], receiverNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${receiverDir}`] });
    const segments = r.summary?.total.segmentsSent ?? 0;
    say(`- node --cpu-prof on p2mpclient and on each p2mpserver (P=0, ${o.profSizeMib} MiB): \`${r.command.replace(out, o.out)}\`; ${segments} segments sent in ${(r.transferMs / 1000).toFixed(3)} s -> ${path.relative(ROOT, profDir)}/\n`);
    say('Busy time per segment per thread (busy = profiled time minus idle; on a loaded 2-core machine a thread that is');
    say('descheduled inside a system call is counted busy there, so send() "self time" includes waiting for a CPU):\n');
    let senderBusyMs = 0;
    for (const [who, dir, segs] of [
      ['sender', senderDir, segments],
      ['receiver', receiverDir, Math.round(segments / n)],
    ] as const) {
      for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.cpuprofile')).sort()) {
        const s = summarizeProfile(path.join(dir, f));
        if (who === 'sender') senderBusyMs += s.busyMs;
        // The sender's main thread has nothing to do per segment; worker threads carry the loops.
        say(`### ${who} ${f}: ${s.durationMs.toFixed(0)} ms profiled, ${s.busyMs.toFixed(0)} ms busy, ${((s.busyMs * 1000) / Math.max(1, segs)).toFixed(2)} us busy per segment (${segs} segments)\n`);
        say('| self ms | us/segment | total ms | function |');
        say('|---:|---:|---:|---|');
        for (const fn of s.functions.filter((x) => x.name !== '(idle)').slice(0, 15)) {
          say(`| ${fn.selfMs.toFixed(1)} | ${((fn.selfMs * 1000) / Math.max(1, segs)).toFixed(2)} | ${fn.totalMs.toFixed(1)} | \`${fn.name}\` |`);
        }
        say('');
      }
    }
    say(`Sender, all threads together: ${((senderBusyMs * 1000) / Math.max(1, segments)).toFixed(2)} us busy per segment (start-up included).`);
    fs.writeFileSync(path.join(out, 'profile-summary.md'), `${lines.join('\n')}\n`);
    console.log(`\nwrote ${path.relative(ROOT, path.join(out, 'profile-summary.md'))}; open the .html reports in a browser`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const program = new Command('profile')
  .description('clinic doctor + flame and per-thread CPU profiles of a loopback transfer; reports in .clinic/')
  .option('--size-mib <n>', 'file size in MiB for the clinic runs', '4')
  .option('--prof-size-mib <n>', 'file size in MiB for the CPU profiles', '16')
  .option('--receivers <n>', 'receivers (p2mpserver processes)', '3')
  .option('--mss <bytes>', 'MSS', '1000')
  .option('--p <prob>', 'loss probability for the clinic runs', '0.02')
  .option('--out <dir>', 'report directory (relative to the repository)', '.clinic')
  .option('--skip-clinic', 'only the CPU profiles')
  .action(main);

await program.parseAsync(process.argv);
