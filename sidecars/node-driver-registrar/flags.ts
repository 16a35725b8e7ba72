/**
 * csi-node-driver-registrar's command line: upstream's flags (kubernetes-csi/node-driver-registrar
 * v2.x) with upstream's names and defaults, in Go's flag syntax.
 */
import { parseDuration } from '../../driver/flags.js';
import { parseGoFlags } from '../go-flags.js';

export type RegistrarMode = 'registration' | 'kubelet-registration-probe';

export interface RegistrarFlags {
  csiAddress: string;
  kubeletRegistrationPath: string;
  pluginRegistrationPath: string;
  /** `--http-endpoint`, or `:<--health-port>` (deprecated); undefined: no HTTP server. */
  httpEndpoint: string | undefined;
  timeoutMs: number;
  /** `--connection-timeout` was given: deprecated upstream, without effect (a warning says so). */
  connectionTimeoutGiven: boolean;
  mode: RegistrarMode;
  verbosity: number;
  version: boolean;
  help: boolean;
}

const options = {
  'csi-address': { type: 'string', default: '/run/csi/socket' },
  'kubelet-registration-path': { type: 'string', default: '' },
  'plugin-registration-path': { type: 'string', default: '/registration' },
  'health-port': { type: 'string', default: '0' },
  'http-endpoint': { type: 'string', default: '' },
  timeout: { type: 'string', default: '1s' },
  'connection-timeout': { type: 'string' },
  mode: { type: 'string', default: 'registration' },
  v: { type: 'string', default: '0' },
  version: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

export const usage = `Usage: csi-node-driver-registrar [flags]

Registers a CSI driver with the kubelet through the kubelet's plugin registration API: serves
pluginregistration.Registration on <plugin-registration-path>/<driver name>-reg.sock.

  --csi-address string                 the CSI driver's socket, to learn its name (default "/run/csi/socket")
  --kubelet-registration-path string   the CSI driver's socket as the kubelet (on the host) sees it (required)
  --plugin-registration-path string    the kubelet's plugins_registry directory, as mounted here (default "/registration")
  --http-endpoint string               address of the /healthz server, e.g. :9809 (default: none)
  --health-port int                    (deprecated) port of the /healthz server; only one of this and --http-endpoint (default 0: none)
  --timeout duration                   deadline of the call to the CSI driver (default 1s)
  --connection-timeout duration        (deprecated, no effect)
  --mode string                        "registration" (serve) or "kubelet-registration-probe" (exit 0 once the kubelet has called GetInfo) (default "registration")
  -v int                               log verbosity, klog style (default 0)
  --version                            print the version and exit
`;

function parseCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim())) throw new Error(`invalid value ${JSON.stringify(text)} for --${flag}: use a whole number >= 0`);
  return Number(text);
}

export function parseRegistrarFlags(argv: readonly string[]): RegistrarFlags {
  const values = parseGoFlags(argv, options, 'csi-node-driver-registrar');
  const mode = values.mode;
  if (mode !== 'registration' && mode !== 'kubelet-registration-probe') {
    throw new Error(`invalid value ${JSON.stringify(mode)} for --mode: use registration or kubelet-registration-probe`);
  }
  const healthPort = parseCount(values['health-port'], 'health-port');
  if (healthPort > 0 && values['http-endpoint'] !== '') throw new Error('only one of --health-port and --http-endpoint can be set');
  if (values['kubelet-registration-path'] === '' && !values.version && !values.help) {
    throw new Error('--kubelet-registration-path is required: the path of the CSI driver\'s socket on the host, e.g. /var/lib/kubelet/plugins/<driver>/csi.sock');
  }
  return {
    csiAddress: values['csi-address'],
    kubeletRegistrationPath: values['kubelet-registration-path'],
    pluginRegistrationPath: values['plugin-registration-path'],
    httpEndpoint: healthPort > 0 ? `:${healthPort}` : values['http-endpoint'] || undefined,
    timeoutMs: parseDuration(values.timeout, 'timeout'),
    connectionTimeoutGiven: values['connection-timeout'] !== undefined,
    mode,
    verbosity: parseCount(values.v, 'v'),
    version: values.version,
    help: values.help,
  };
}
