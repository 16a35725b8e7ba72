/**
 * `sscsi kind up` and `sscsi kind down`: a kind cluster with the driver and the fake provider
 * deployed from kind/manifests (kind/bootstrap/kind-bootstrapper.ts does the work through the
 * kind, docker and kubectl programs). Where one of them is missing, one line says which and
 * the exit code is 1.
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import { packageRoot } from '../driver/version.js';
import { ExecaRunner } from '../kind/bootstrap/command-runner.js';
import { BootstrapError, KindBootstrapper } from '../kind/bootstrap/kind-bootstrapper.js';
import { parseFlags } from './parse-flags.js';

const kindUsage = `Usage: sscsi kind up [--name NAME] [--image kindest/node:TAG] [--reuse] [--base-image IMAGE] [--token-audience AUD]... [--timeout DURATION]
       sscsi kind down [--name NAME]

  up    creates a kind cluster (one control plane, one worker), builds the driver and
        fake-provider images, loads them into the nodes, applies kind/manifests and waits
        for the CRDs and both DaemonSets; prints the kubeconfig context (kind-NAME)
  down  deletes the cluster

Options:
  --name NAME          cluster name (default sscsi)
  --image IMAGE        kindest/node image for the nodes (default: kind's own)
  --reuse              deploy into the cluster of that name if it exists instead of failing
  --base-image IMAGE   BASE_IMAGE for both Dockerfiles (default node:24-slim)
  --token-audience AUD the kubelet passes a service-account token for AUD to providers
                       (the CSIDriver's tokenRequests; repeatable; default none)
  --timeout DURATION   how long to wait for the CRDs and each DaemonSet, e.g. 180s (default)

Needs kind, docker (with a running engine) and kubectl on PATH.
`;

type KindValues = { name: string; image?: string; reuse?: boolean; 'base-image'?: string; 'token-audience'?: string[]; timeout?: string };

function kindOptions(verb: 'up' | 'down'): ParseArgsOptionsConfig {
  return {
    name: { type: 'string', default: 'sscsi' },
    ...(verb === 'up'
      ? {
          image: { type: 'string' },
          reuse: { type: 'boolean', default: false },
          'base-image': { type: 'string' },
          'token-audience': { type: 'string', multiple: true },
          timeout: { type: 'string', default: '180s' },
        }
      : {}),
  };
}

export async function kindCommand(argv: string[]): Promise<number> {
  const verb = argv[0];
  if (verb !== 'up' && verb !== 'down') {
    process.stderr.write(`sscsi kind: unknown command ${JSON.stringify(verb ?? '')}\n${kindUsage}`);
    return 2;
  }
  const parsed = parseFlags<KindValues>(`sscsi kind ${verb}`, kindUsage, argv.slice(1), kindOptions(verb));
  if (parsed.exit !== undefined) return parsed.exit;
  const values = parsed.values;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(values.name)) {
    process.stderr.write(`sscsi kind ${verb}: --name must be lower-case letters, digits and '-', got ${JSON.stringify(values.name)}\n`);
    return 2;
  }
  if (values.timeout !== undefined && !/^\d+(s|m)$/.test(values.timeout)) {
    process.stderr.write(`sscsi kind ${verb}: --timeout must be seconds or minutes such as 180s or 3m, got ${JSON.stringify(values.timeout)}\n`);
    return 2;
  }
  const bootstrapper = new KindBootstrapper({
    runner: new ExecaRunner(),
    root: packageRoot(),
    log: (line) => process.stdout.write(`${line}\n`),
    ...(values.timeout ? { waitTimeout: values.timeout } : {}),
  });
  try {
    if (verb === 'down') await bootstrapper.down(values.name);
    else {
      const context = await bootstrapper.up({
        name: values.name,
        reuse: values.reuse ?? false,
        ...(values.image ? { nodeImage: values.image } : {}),
        ...(values['base-image'] ? { baseImage: values['base-image'] } : {}),
        ...(values['token-audience'] ? { tokenAudiences: values['token-audience'] } : {}),
      });
      process.stdout.write(`${context}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof BootstrapError) {
      process.stderr.write(`sscsi kind ${verb}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
