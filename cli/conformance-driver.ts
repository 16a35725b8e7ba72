/**
 * `sscsi conformance driver`: the driver conformance kit from the command line (see
 * conformance/driver/). Without --endpoint the kit starts the driver itself — ours, or
 * --driver-bin — with the upstream flags; with --endpoint the user starts it with the
 * flags the kit prints, and the kit waits for the socket.
 */
import { driverCheckIds, runDriverKit, type DriverKitRun } from '../conformance/driver/run-driver-kit.js';
import { checkOnly, duration, runKitCommand, str, UsageError } from './kit-command.js';

export const driverConformanceUsage = `Usage: sscsi conformance driver [--endpoint unix:///path.sock | --driver-bin PATH] [options]

Acts as the kubelet against a CSI driver speaking the secrets-store contract, with a fake
provider and a simulated API server the kit starts, and checks Identity, validation codes,
publish (tmpfs, atomic layout, modes, SecretProviderClassPodStatus, the provider's Mount
request), idempotency, rotation, Secret sync, attacks, provider failures and the driver's
output. The driver runs with --enable-secret-rotation and a 1s --rotation-poll-interval.
Checks marked * are of this project's extensions, beyond upstream's driver v1.6 (each says
why in the report, "beyondUpstream" in the JSON): a driver lacking one still conforms.

Options:
  --endpoint unix:///PATH   a driver you start yourself; the kit prints the flags to give it and waits
  --driver-log FILE         with --endpoint: the driver's output, for the no-secret check
  --driver-bin PATH         a driver binary the kit starts with the upstream flags (default: this package's driver)
  --driver-arg=FLAG         an extra flag for the driver the kit starts (repeatable; note the =)
  --state-dir DIR           where the kit's world lives (kubeconfig, provider sockets, kubelet dir); default a temp dir
  --node-id ID              the --nodeid the driver is given (default conformance-node)
  --driver-name NAME        the name GetPluginInfo must return (default secrets-store.csi.k8s.io)
  --wait DURATION           how long to wait for the driver's socket (default 120s)
  --hang-deadline DURATION  the publish deadline while the provider hangs (default 3s)
  --only CHECK              run only this check (repeatable): ${driverCheckIds.join(', ')}
  --junit FILE              write JUnit XML (one testsuite per group)
  --json FILE               write the results as JSON
  --strict                  exit 1 also when an extension beyond upstream is lacking

Exit: 0 when the driver conforms (every check passed, except possibly those beyond
upstream; the verdict lists the extensions lacked), 1 when a check of the contract failed or
the kit could not run, 2 for bad usage, 130 when interrupted.
`;

export function conformanceDriver(argv: string[]): Promise<number> {
  return runKitCommand<DriverKitRun>(argv, {
    name: 'sscsi conformance driver',
    usage: driverConformanceUsage,
    options: {
      endpoint: { type: 'string' },
      'driver-log': { type: 'string' },
      'driver-bin': { type: 'string' },
      'driver-arg': { type: 'string', multiple: true },
      'state-dir': { type: 'string' },
      'node-id': { type: 'string', default: 'conformance-node' },
      'driver-name': { type: 'string', default: 'secrets-store.csi.k8s.io' },
      wait: { type: 'string' },
      'hang-deadline': { type: 'string' },
      only: { type: 'string', multiple: true },
    },
    async prepare(v) {
      const endpoint = str(v.endpoint);
      const driverArgs = (v['driver-arg'] as string[] | undefined) ?? [];
      if (endpoint && (v['driver-bin'] || driverArgs.length > 0)) throw new UsageError('--endpoint is a driver you start yourself: it does not go with --driver-bin or --driver-arg');
      if (v['driver-log'] && !endpoint) throw new UsageError('--driver-log goes with --endpoint (the output of a driver the kit starts is read directly)');
      if (endpoint && !endpoint.startsWith('unix://')) throw new UsageError(`--endpoint must be unix:///path/to/csi.sock, got ${JSON.stringify(endpoint)}`);
      const only = v.only as string[] | undefined;
      checkOnly(only, driverCheckIds);
      return {
        endpoint,
        driverLog: str(v['driver-log']),
        driverBin: str(v['driver-bin']),
        driverArgs,
        stateDir: str(v['state-dir']),
        nodeId: str(v['node-id'])!,
        driverName: str(v['driver-name'])!,
        waitMs: duration(str(v.wait), '--wait', 120_000),
        hangDeadlineMs: duration(str(v['hang-deadline']), '--hang-deadline', 3000),
        only,
        out: process.stdout,
      };
    },
    banner: () => 'driver conformance',
    run: (o, signal) => runDriverKit({ ...o, signal }),
  });
}
