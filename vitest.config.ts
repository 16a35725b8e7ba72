import { defineConfig } from 'vitest/config';

/**
 * Files that use what the machine has only one of, run one at a time before the rest: the
 * k8s target's node (upstream's kubelet, containerd, the DaemonSet driver on the host's
 * ports, /var/lib/kubelet) and the Docker engine with the images npm test builds (a file
 * that rebuilds or re-tags an image would change what a container of another file runs).
 */
const exclusive = [
  'test/k8s/**/*.test.ts',
  'test/kind/images.test.ts',
  'test/kind/bootstrap.test.ts',
  'test/kind/kind-cluster.test.ts',
  'test/sim/docker-runtime.test.ts',
  'test/scenarios/scenarios-cli.test.ts',
  'test/scenarios/upstream-driver.test.ts',
  'test/cli/sscsi.test.ts',
  'test/cli/sim-up-provider.test.ts',
  'test/cli/sim-up-driver-bin.test.ts',
];

export default defineConfig({
  test: {
    // Tests start real processes and mount real tmpfs volumes: give conditions time to
    // become true, and run files in separate processes so a crash stays contained.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // Builds the container images once where a Docker engine runs (test/helpers/image-setup.ts).
    globalSetup: ['test/helpers/image-setup.ts'],
    projects: [
      // First, one file at a time.
      { extends: true, test: { name: 'exclusive', include: exclusive, maxWorkers: 1, sequence: { groupOrder: 0 } } },
      // Then the rest two files at a time (Vitest's default on 2 cores is one): every other
      // file keeps to its own temporary root, sockets and ports (port 0 or a free port).
      { extends: true, test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: exclusive, maxWorkers: 2, sequence: { groupOrder: 1 } } },
    ],
  },
});
