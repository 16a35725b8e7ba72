/** The upstream flags that place a driver in a harness's world (simulated cluster, conformance kit, benchmarks). */
export interface DriverPlacement {
  socket: string;
  nodeId: string;
  providerDir: string;
  /** --additional-provider-volume-paths (kept inside the world so no host provider is found). */
  additionalProviderDir?: string | undefined;
  /** HOST:PORT for --metrics-addr; the driver's default when absent. */
  metricsAddr?: string | undefined;
  kubeconfig: string;
}

export function driverFlags(p: DriverPlacement): string[] {
  return [
    `--endpoint=unix://${p.socket}`,
    `--nodeid=${p.nodeId}`,
    `--provider-volume=${p.providerDir}`,
    ...(p.additionalProviderDir !== undefined ? [`--additional-provider-volume-paths=${p.additionalProviderDir}`] : []),
    ...(p.metricsAddr !== undefined ? [`--metrics-addr=${p.metricsAddr}`] : []),
    `--kubeconfig=${p.kubeconfig}`,
  ];
}
