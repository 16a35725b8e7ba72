/**
 * `sscsi conformance driver`: the driver conformance kit from the command line (see
 * conformance/driver/). Without --endpoint the kit starts the driver itself — ours, or
 * --driver-bin — with the upstream flags; with --endpoint the user starts it with the
 * flags the kit prints, and the kit waits for the socket.
 */
import { parseArgs } from 'node:util';
import { driverCheckIds, runDriverKit } from '../conformance/driver/run-driver-kit.js';
import { duration, finishKit, UsageError } from './conformance.js';

export const driverConformanceUsage = `Usage: sscsi conformance driver [--endpoint unix:///path.sock | --driver-bin PATH] [options]

Acts as the kubelet against a CSI driver speaking the secrets-store contract, with a fake
provider and a simulated API server the kit starts, and checks Identity, validation codes,
publish (tmpfs, atomic layout, modes, SecretProviderClassPodStatus), idempotency, attacks,
provider failures and the driver's output.

Options:
  --endpoint unix:///PATH   a driver you start yourself; the kit prints the flags to give it and waits
  --driver-log FILE         with --endpoint: the driver's output, for the no-secret check
  --driver-bin PATH         a driver binary the kit starts with the upstream flags (default: this package's driver)
  --driver-arg FLAG         an extra flag for the driver the kit starts (repeatable)
  --state-dir DIR           where the kit's world lives (kubeconfig, provider sockets, kubelet dir); default a temp dir
  --node-id ID              the --nodeid the driver is given (default conformance-node)
  --driver-name NAME        the name GetPluginInfo must return (default secrets-store.csi.k8s.io)
  --wait DURATION           how long to wait for the driver's socket (default 120s)
  --hang-deadline DURATION  the publish deadline while the provider hangs (default 3s)
  --only CHECK              run only this check (repeatable): ${driverCheckIds.join(', ')}
  --junit FILE              write JUnit XML (one testsuite per group)
  --json FILE               write the results as JSON
`;

export async function conformanceDriver(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
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
        junit: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`sscsi conformance driver: ${(err as Error).message}\n${driverConformanceUsage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(driverConformanceUsage);
    return 0;
  }
  let options;
  try {
    if (values.endpoint && (values['driver-bin'] || values['driver-arg'])) throw new UsageError('--endpoint is a driver you start yourself: it does not go with --driver-bin or --driver-arg');
    if (values['driver-log'] && !values.endpoint) throw new UsageError('--driver-log goes with --endpoint (the output of a driver the kit starts is read directly)');
    if (values.endpoint && !values.endpoint.startsWith('unix://')) throw new UsageError(`--endpoint must be unix:///path/to/csi.sock, got ${JSON.stringify(values.endpoint)}`);
    const unknownChecks = (values.only ?? []).filter((id) => !driverCheckIds.includes(id));
    if (unknownChecks.length > 0) throw new UsageError(`unknown check ${unknownChecks.join(', ')}; the checks are ${driverCheckIds.join(', ')}`);
    options = {
      endpoint: values.endpoint,
      driverLog: values['driver-log'],
      driverBin: values['driver-bin'],
      driverArgs: values['driver-arg'] ?? [],
      stateDir: values['state-dir'],
      nodeId: values['node-id'],
      driverName: values['driver-name'],
      waitMs: duration(values.wait, '--wait', 120_000),
      hangDeadlineMs: duration(values['hang-deadline'], '--hang-deadline', 3000),
      only: values.only,
      out: process.stdout,
    };
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sscsi conformance driver: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  process.stdout.write('driver conformance\n');
  let run;
  try {
    run = await runDriverKit(options);
  } catch (err) {
    process.stderr.write(`sscsi conformance driver: ${(err as Error).message}\n`);
    return 1;
  }
  return finishKit(run, { junit: values.junit, json: values.json });
}
