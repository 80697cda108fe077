import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // End-to-end tests move real files over real sockets; give them room, but every test is bounded.
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
