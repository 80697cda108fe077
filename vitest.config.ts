import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // End-to-end tests move real files over real sockets; give them room, but every test is bounded.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Most files wait on real sockets and timers rather than compute: two at a time on a 2-core machine halves the
    // wall time (vitest's default here is one), with every timing-sensitive wait bounded generously.
    maxWorkers: 2,
  },
});
