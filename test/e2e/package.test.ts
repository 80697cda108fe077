// The package as a user gets it: `npm pack`, installed into a fresh folder, imported by name, and used to
// move a file over loopback with the library's send() and receive(); its programs and man pages are there,
// and nothing else is shipped.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File, tempDir, writeSeededFile } from '../../harness/files.js';
import { freePort } from '../../harness/net.js';
import { ROOT } from '../../harness/paths.js';

const dir = tempDir('p2mp-package-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });

describe('the npm package', () => {
  it('installs from npm pack, and send() and receive() from `import "p2mp-ftp"` move a file byte for byte', { timeout: 180_000 }, async () => {
    // The build is current (npm test builds first): pack it as it is.
    const tarball = path.join(dir, JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT))[0].filename as string);
    const listed = (JSON.parse(npm(['pack', '--json', '--dry-run', '--ignore-scripts'], ROOT))[0].files as Array<{ path: string }>).map((f) => f.path);
    expect(listed).toContain('dist/src/api.js');
    expect(listed).toContain('dist/src/api.d.ts');
    expect(listed).toContain('LICENSE');
    expect(listed).toContain('dist/man/p2mpclient.1');
    expect(listed.filter((f) => /\.map$|^dist\/(bench|experiments|harness|tools)\/|^src\/|^test\//.test(f))).toEqual([]);

    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    npm(['install', '--prefer-offline', '--no-package-lock', tarball], app);
    for (const bin of ['p2mpclient', 'p2mpserver', 'p2mpsim']) expect(fs.existsSync(path.join(app, 'node_modules/.bin', bin))).toBe(true);

    const src = path.join(dir, 'input.bin');
    writeSeededFile(src, 300_000, 'package-test');
    const out = path.join(dir, 'copy.bin');
    const port = await freePort(['127.0.0.2']);
    fs.writeFileSync(
      path.join(app, 'move.js'),
      `import { send, receive, simulate } from 'p2mp-ftp';
const got = receive({ port: ${port}, bind: '127.0.0.2', file: ${JSON.stringify(out)}, lossRate: 0.05, seed: 'pkg' });
const sent = await send({ hosts: ['127.0.0.2'], port: ${port}, file: ${JSON.stringify(src)}, mss: 1000, waitMs: 5000 });
const sim = simulate({ receivers: 3, lossRate: 0.1, fileBytes: 20000, seed: 1 });
console.log(JSON.stringify({ sent, got: await got, sim: { allComplete: sim.allComplete, receivers: sim.receivers.length } }));
`,
    );
    const result = JSON.parse(execFileSync(process.execPath, ['move.js'], { cwd: app, encoding: 'utf8' })) as {
      sent: { ok: boolean; sha256: string; total: { complete: number } };
      got: { ok: boolean; sha256: string; drops: number };
      sim: { allComplete: boolean; receivers: number };
    };
    const want = sha256File(src);
    expect(sha256File(out)).toBe(want);
    expect(result.sent).toMatchObject({ ok: true, sha256: want, total: { complete: 1 } });
    expect(result.got).toMatchObject({ ok: true, sha256: want });
    expect(result.got.drops).toBeGreaterThan(0); // the loss service really ran, and the file still arrived whole
    expect(result.sim).toEqual({ allComplete: true, receivers: 3 });
  });
});
