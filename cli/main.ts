#!/usr/bin/env node
/** sscsi: the harness CLI, verb + noun like kubectl. Commands arrive issue by issue. */
import { conformanceCommand } from './conformance.js';
import { runDemo } from './demo.js';
import { imageCommand } from './image.js';
import { k8sCommand } from './k8s.js';
import { kindCommand } from './kind.js';
import { scenariosRun, scenariosUsage } from './scenarios-run.js';
import { simUp, simUpUsage } from './sim-up.js';

const usage = `Usage: sscsi <command>

Commands:
  scenarios run   run the scenarios (mount, sync, rotation, pod-deletion, provider-outage, mount-storm, driver-restart)
  sim up   start a simulated cluster (API server, kubelet, driver, fake provider) and keep it running
  k8s up|down   run a real Kubernetes node on this machine (etcd, API server, controller-manager, scheduler, containerd, kubelet) with the driver DaemonSet, or stop it
  kind up|down   create a kind cluster with the driver and the fake provider deployed, or delete it
  image base|build   a local Node 24 base image; the driver and fake-provider images
  conformance provider|driver|sanity   check any provider or any driver against the contract, or run csi-sanity on a driver (JUnit for CI gates)
  demo     a pod with a secrets-store volume on the simulated cluster, end to end
`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'demo':
      return runDemo();
    case 'scenarios':
      if (argv[1] === 'run') return scenariosRun(argv.slice(2));
      process.stderr.write(`sscsi scenarios: unknown command ${JSON.stringify(argv[1] ?? '')}\n${scenariosUsage}`);
      return 2;
    case 'conformance':
      return conformanceCommand(argv.slice(1));
    case 'image':
      return imageCommand(argv.slice(1));
    case 'kind':
      return kindCommand(argv.slice(1));
    case 'k8s':
      return k8sCommand(argv.slice(1));
    case 'sim':
      if (argv[1] === 'up') return simUp(argv.slice(2));
      process.stderr.write(`sscsi sim: unknown command ${JSON.stringify(argv[1] ?? '')}\n${simUpUsage}`);
      return 2;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(usage);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`sscsi: unknown command ${JSON.stringify(command)}\n${usage}`);
      return 2;
  }
}

// Exit when the command is done, even if a stray handle (a watch, a timer) would keep the
// event loop alive.
const code = await main(process.argv.slice(2));
await new Promise<void>((resolve) => process.stdout.write('', () => process.stderr.write('', () => resolve())));
process.exit(code);
