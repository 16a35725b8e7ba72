/**
 * The simulated control plane beside the API server: namespaces' default ServiceAccounts,
 * garbage collection, Deployments and ReplicaSets, and the scheduler.
 */
import type { ObjectStore } from '../apiserver/object-store.js';
import { WorkloadControllers } from './deployment-controller.js';
import { GarbageCollector } from './garbage-collector.js';
import { NamespaceController } from './namespace-controller.js';
import { Scheduler } from './scheduler.js';

export interface ControlPlane {
  stop(): void;
}

export function startControlPlane(store: ObjectStore, onError: (what: string, err: unknown) => void = () => undefined): ControlPlane {
  const parts = [new NamespaceController(store, onError).start(), new GarbageCollector(store, onError).start(), new WorkloadControllers(store).start(), new Scheduler(store).start()];
  return {
    stop() {
      for (const p of parts) p.stop();
    },
  };
}
