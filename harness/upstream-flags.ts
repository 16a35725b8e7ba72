/**
 * The command line of upstream's driver (sigs.k8s.io/secrets-store-csi-driver v1.6,
 * cmd/secrets-store-csi-driver): its own flags, klog's, and the `--kubeconfig` flag that
 * controller-runtime registers. Stated here from upstream's source, not taken from our
 * driver's parser: this is what the harness may pass to a driver binary that is not ours.
 * Anything else (our `--mount-mode`, `--provider-max-inflight`, `--provider-timeout`) is
 * an extension that another binary would reject as an unknown flag.
 */
const upstreamFlagNames: ReadonlySet<string> = new Set([
  // cmd/secrets-store-csi-driver/main.go
  'endpoint',
  'drivername',
  'nodeid',
  'log-format-json',
  'provider-volume',
  'additional-provider-volume-paths',
  'metrics-addr',
  'enable-secret-rotation',
  'rotation-poll-interval',
  'enable-pprof',
  'pprof-port',
  'max-call-recv-msg-size',
  'version',
  'provider-health-check',
  'provider-health-check-interval',
  // controller-runtime pkg/client/config
  'kubeconfig',
  // klog.InitFlags
  'v',
  'vmodule',
  'logtostderr',
  'alsologtostderr',
  'stderrthreshold',
  'log_dir',
  'log_file',
  'log_file_max_size',
  'skip_headers',
  'skip_log_headers',
  'add_dir_header',
  'one_output',
]);

/** The flag's name in a Go-style argument (`--name=value`, `-name`, ...), or undefined for a value. */
function flagName(arg: string): string | undefined {
  const m = /^--?([^=-][^=]*)(=.*)?$/.exec(arg);
  return m?.[1];
}

export function isUpstreamFlag(arg: string): boolean {
  const name = flagName(arg);
  return name !== undefined && upstreamFlagNames.has(name);
}

/**
 * Splits driver arguments written as `--flag=value` (or bare booleans) into those upstream's
 * driver takes and our extensions. A value given as a separate argument stays with its flag.
 */
export function splitUpstreamFlags(args: readonly string[]): { upstream: string[]; ours: string[] } {
  const upstream: string[] = [];
  const ours: string[] = [];
  let last: string[] | undefined;
  for (const arg of args) {
    if (flagName(arg) === undefined && last) {
      last.push(arg);
      continue;
    }
    last = isUpstreamFlag(arg) ? upstream : ours;
    last.push(arg);
  }
  return { upstream, ours };
}
