// Runs in every test file (vitest setupFiles): children still running when a file ends (a failed or timed-out
// test) are killed, so no receiver is left waiting for a sender that will never come.

import { afterAll } from 'vitest';
import { killRunning } from '../harness/procs.js';

afterAll(killRunning);
