import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real processes and mount real tmpfs volumes: give conditions time to
    // become true, and run files in separate processes so a crash stays contained.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // Builds the container images once where a Docker engine runs (test/helpers/image-setup.ts).
    globalSetup: ['test/helpers/image-setup.ts'],
  },
});
