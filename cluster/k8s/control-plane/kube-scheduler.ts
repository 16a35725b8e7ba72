/**
 * kube-scheduler with its own identity (system:kube-scheduler). Serves /healthz on 127.0.0.1
 * only; ready when it answers ok.
 */
import type { ClusterPki } from './certificates.js';
import type { RunningComponent } from './component.js';
import { startSecureServingComponent } from './secure-serving-component.js';

export interface SchedulerOptions {
  binary: string;
  pki: ClusterPki;
  kubeconfig: string;
  logFile: string;
  signal?: AbortSignal;
}

export async function startScheduler(options: SchedulerOptions): Promise<RunningComponent> {
  return startSecureServingComponent({
    name: 'kube-scheduler',
    binary: options.binary,
    pki: options.pki,
    kubeconfig: options.kubeconfig,
    serving: options.pki.schedulerServing,
    args: [],
    logFile: options.logFile,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
