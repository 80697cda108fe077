// p2mpserver FILE -: the received data goes to stdout as it arrives, in order. There is no temporary file
// and no rename (a pipe cannot be taken back): a failed transfer leaves what was written, and the exit
// status and summary say it failed. Writes are synchronous so that an ACK still means "written".

import fs from 'node:fs';
import { writeAllv } from './atomic-output.js';
import type { OutputSink } from './receiver-driver.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

export class StdoutSink implements OutputSink {
  write(payloads: readonly Uint8Array[]): void {
    writeAllv(payloads, (parts) => {
      for (;;) {
        try {
          return fs.writevSync(1, parts);
        } catch (err) {
          // stdout may be a non-blocking pipe: a full one answers EAGAIN, so wait a moment for the reader.
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          Atomics.wait(pause, 0, 0, 1);
        }
      }
    });
  }

  commit(): void {}

  discard(): void {}
}
