/**
 * The driver's command line: upstream's flags with upstream's names and defaults, plus our
 * own (`--kubeconfig`, `--mount-mode`, `--provider-max-inflight`, `--provider-timeout`).
 * Go's flag syntax is accepted as the DaemonSets write it: `--flag=value`, `--flag value`,
 * single-dash `-flag`, and booleans as `--flag`, `--flag=true` or `--flag=false`.
 * An unknown flag is an error.
 */
import { parseArgs } from 'node:util';

export type MountMode = 'auto' | 'tmpfs' | 'dir';

export interface DriverFlags {
  endpoint: string;
  driverName: string;
  nodeId: string;
  providerVolume: string;
  additionalProviderVolumePaths: string[];
  metricsAddr: string;
  enableSecretRotation: boolean;
  rotationPollIntervalMs: number;
  maxCallRecvMsgSize: number;
  providerHealthCheck: boolean;
  providerHealthCheckIntervalMs: number;
  logFormatJson: boolean;
  verbosity: number;
  kubeconfig: string | undefined;
  mountMode: MountMode;
  providerMaxInflight: number;
  providerTimeoutMs: number;
  version: boolean;
  help: boolean;
}

export const defaultProviderVolume = '/var/run/secrets-store-csi-providers';
export const defaultAdditionalProviderVolumePaths = '/etc/kubernetes/secrets-store-csi-providers';

const options = {
  endpoint: { type: 'string', default: 'unix://tmp/csi.sock' },
  drivername: { type: 'string', default: 'secrets-store.csi.k8s.io' },
  nodeid: { type: 'string', default: '' },
  'provider-volume': { type: 'string', default: defaultProviderVolume },
  'additional-provider-volume-paths': { type: 'string', default: defaultAdditionalProviderVolumePaths },
  'metrics-addr': { type: 'string', default: ':8095' },
  'enable-secret-rotation': { type: 'boolean', default: false },
  'rotation-poll-interval': { type: 'string', default: '2m' },
  'max-call-recv-msg-size': { type: 'string', default: String(4 * 1024 * 1024) },
  'provider-health-check': { type: 'boolean', default: false },
  'provider-health-check-interval': { type: 'string', default: '2m' },
  'log-format-json': { type: 'boolean', default: false },
  v: { type: 'string', default: '0' },
  kubeconfig: { type: 'string' },
  'mount-mode': { type: 'string', default: 'auto' },
  'provider-max-inflight': { type: 'string', default: '32' },
  'provider-timeout': { type: 'string', default: '30s' },
  version: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export const usage = `Usage: secrets-store-csi-driver [flags]

Upstream flags (same names and defaults as secrets-store.csi.k8s.io):
  --endpoint string                          CSI endpoint (default "unix://tmp/csi.sock")
  --drivername string                        name of the driver (default "secrets-store.csi.k8s.io")
  --nodeid string                            node id, the Kubernetes node name (required)
  --provider-volume string                   directory of provider sockets (default "${defaultProviderVolume}")
  --additional-provider-volume-paths string  comma-separated directories searched first (default "${defaultAdditionalProviderVolumePaths}")
  --metrics-addr string                      address of the metrics and health server (default ":8095")
  --enable-secret-rotation                   enable auto rotation of mounted content (default false)
  --rotation-poll-interval duration          rotation interval (default 2m)
  --max-call-recv-msg-size int               largest provider reply in bytes (default 4194304)
  --provider-health-check                    check provider health (default false)
  --provider-health-check-interval duration  provider health check interval (default 2m)
  --log-format-json                          log JSON (default false)
  -v int                                     log verbosity, klog style (default 0)
  --version                                  print the version and exit

Our own flags:
  --kubeconfig string                        kubeconfig file (default: in-cluster config, then $KUBECONFIG, then ~/.kube/config)
  --mount-mode auto|tmpfs|dir                tmpfs needs root on Linux; dir writes plain directories (default auto)
  --provider-max-inflight int                most Mount calls in flight per provider; more wait in a queue (default 32)
  --provider-timeout duration                deadline of one provider call, within the kubelet's own (default 30s)
`;

const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration ("2m", "1h30m", "500ms", "0") into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new Error(`invalid value ${JSON.stringify(text)} for --${flag}: use a duration such as 30s, 2m or 1h30m`);
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos === 0) throw new Error(`invalid value ${JSON.stringify(text)} for --${flag}: use a duration such as 30s, 2m or 1h30m`);
  return total;
}

function parseCount(text: string, flag: string, min: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) {
    throw new Error(`invalid value ${JSON.stringify(text)} for --${flag}: use a whole number >= ${min}`);
  }
  return Number(text);
}

/** Rewrites Go flag syntax into what node:util parseArgs understands. */
function normalize(argv: readonly string[]): string[] {
  const booleans = new Set(Object.entries(options).filter(([, o]) => o.type === 'boolean').map(([k]) => k));
  const out: string[] = [];
  for (const arg of argv) {
    if (arg === '--' || !arg.startsWith('-') || arg === '-') {
      out.push(arg);
      continue;
    }
    // Go accepts -flag as well as --flag; parseArgs wants --flag for long names.
    let a = /^-[^-]/.test(arg) && arg.length > 2 && !arg.startsWith('-h=') ? `-${arg}` : arg;
    const eq = a.indexOf('=');
    const name = (eq === -1 ? a : a.slice(0, eq)).replace(/^--?/, '');
    if (booleans.has(name) && eq !== -1) {
      const value = a.slice(eq + 1).toLowerCase();
      if (['true', '1', 't'].includes(value)) a = `--${name}`;
      else if (['false', '0', 'f'].includes(value)) a = `--no-${name}`;
      else throw new Error(`invalid boolean value ${JSON.stringify(a.slice(eq + 1))} for --${name}: use true or false`);
    }
    out.push(a);
  }
  return out;
}

export function parseDriverFlags(argv: readonly string[]): DriverFlags {
  let values;
  try {
    ({ values } = parseArgs({ args: normalize(argv), options, strict: true, allowPositionals: false, allowNegative: true }));
  } catch (err) {
    throw new Error(`${(err as Error).message.replace(/\. To specify.*$/s, '')}\nRun with --help to see the flags.`);
  }
  const mountMode = values['mount-mode'];
  if (mountMode !== 'auto' && mountMode !== 'tmpfs' && mountMode !== 'dir') {
    throw new Error(`invalid value ${JSON.stringify(mountMode)} for --mount-mode: use auto, tmpfs or dir`);
  }
  if (values.nodeid === '' && !values.version && !values.help) {
    throw new Error('--nodeid is required: pass the Kubernetes node name (spec.nodeName, e.g. --nodeid=$(KUBE_NODE_NAME))');
  }
  const additional = values['additional-provider-volume-paths']
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return {
    endpoint: values.endpoint,
    driverName: values.drivername,
    nodeId: values.nodeid,
    providerVolume: values['provider-volume'],
    additionalProviderVolumePaths: additional,
    metricsAddr: values['metrics-addr'],
    enableSecretRotation: values['enable-secret-rotation'],
    rotationPollIntervalMs: parseDuration(values['rotation-poll-interval'], 'rotation-poll-interval'),
    maxCallRecvMsgSize: parseCount(values['max-call-recv-msg-size'], 'max-call-recv-msg-size', 1),
    providerHealthCheck: values['provider-health-check'],
    providerHealthCheckIntervalMs: parseDuration(values['provider-health-check-interval'], 'provider-health-check-interval'),
    logFormatJson: values['log-format-json'],
    verbosity: parseCount(values.v, 'v', 0),
    kubeconfig: values.kubeconfig,
    mountMode,
    providerMaxInflight: parseCount(values['provider-max-inflight'], 'provider-max-inflight', 1),
    providerTimeoutMs: parseDuration(values['provider-timeout'], 'provider-timeout'),
    version: values.version,
    help: values.help,
  };
}
