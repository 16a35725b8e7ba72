/**
 * livenessprobe's command line: upstream's flags (kubernetes-csi/livenessprobe v2.x) with
 * upstream's names and defaults, in Go's flag syntax. Upstream's Prometheus flags
 * (--metrics-address, --metrics-path) are not ours: no metrics are served.
 */
import { parseDuration } from '../../driver/flags.js';
import { parseGoFlags } from '../go-flags.js';

export const defaultHealthPort = '9808';

export interface LivenessProbeFlags {
  csiAddress: string;
  /** Where /healthz listens: --http-endpoint, else 0.0.0.0:<--health-port>. */
  listenAddr: string;
  probeTimeoutMs: number;
  verbosity: number;
  help: boolean;
}

const options = {
  'csi-address': { type: 'string', default: '/run/csi/socket' },
  'health-port': { type: 'string', default: defaultHealthPort },
  'http-endpoint': { type: 'string', default: '' },
  'probe-timeout': { type: 'string', default: '1s' },
  v: { type: 'string', default: '0' },
  help: { type: 'boolean', default: false },
} as const;

export const usage = `Usage: livenessprobe [flags]

Serves GET /healthz: 200 "ok" when the CSI driver answers Probe ready, 500 with the reason otherwise.

  --csi-address string       the CSI driver's socket (default "/run/csi/socket")
  --health-port string       (deprecated) port to serve /healthz on, on every address (default "${defaultHealthPort}")
  --http-endpoint string     address to serve /healthz on, e.g. 0.0.0.0:9808; not with --health-port (default: none)
  --probe-timeout duration   deadline of the Probe call (default 1s)
  -v int                     log verbosity, klog style (default 0)
`;

export function parseLivenessProbeFlags(argv: readonly string[]): LivenessProbeFlags {
  const values = parseGoFlags(argv, options, 'livenessprobe');
  const healthPort = values['health-port'];
  const httpEndpoint = values['http-endpoint'];
  if (healthPort !== defaultHealthPort && httpEndpoint !== '') throw new Error('only one of --health-port and --http-endpoint can be explicitly set');
  if (!/^\d+$/.test(healthPort) || Number(healthPort) > 65535) throw new Error(`invalid value ${JSON.stringify(healthPort)} for --health-port: use a port number`);
  if (!/^\d+$/.test(values.v)) throw new Error(`invalid value ${JSON.stringify(values.v)} for -v: use a whole number >= 0`);
  return {
    csiAddress: values['csi-address'],
    listenAddr: httpEndpoint !== '' ? httpEndpoint : `0.0.0.0:${healthPort}`,
    probeTimeoutMs: parseDuration(values['probe-timeout'], 'probe-timeout'),
    verbosity: Number(values.v),
    help: values.help,
  };
}
