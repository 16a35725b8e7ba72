/**
 * NodePublishVolume and NodeUnpublishVolume end to end over the CSI socket, as the kubelet
 * calls them: SPC read and SPCPS create against the embedded API server, provider Mount
 * over its socket, tmpfs mount (as root) and the atomic write. Each publish goes to a new
 * pod's target; the unpublish that cleans it up runs outside the timed window (and the
 * other way round for the unpublish suite).
 */
import { Bench } from 'tinybench';
import { fromTask, type SuiteResult } from '../report.js';
import { startPublishStack, type PublishTarget } from '../publish-stack.js';

export interface NodePublishOptions {
  objects: number;
  objectBytes: number;
  iterations: number;
  /** Minimum time per task in ms (tinybench keeps going until both limits are met). */
  timeMs: number;
  log: (line: string) => void;
}

export async function runNodePublishSuites(options: NodePublishOptions): Promise<SuiteResult[]> {
  const stack = await startPublishStack({ objects: options.objects, objectBytes: options.objectBytes });
  try {
    options.log(`node-publish: driver mount mode ${stack.mountMode}, ${options.objects} objects × ${options.objectBytes} B, ≥ ${options.iterations} iterations`);
    const label = `${options.objects}x${options.objectBytes >= 1024 ? `${options.objectBytes / 1024}KiB` : `${options.objectBytes}B`}`;
    const bench = new Bench({ iterations: options.iterations, time: options.timeMs, warmupIterations: 20, throws: true });
    let current: PublishTarget | undefined;
    const publishName = `node-publish ${label}`;
    const unpublishName = `node-unpublish ${label}`;
    bench.add(publishName, async () => stack.publish(current!), {
      beforeEach: async () => {
        current = await stack.newTarget();
      },
      afterEach: async () => stack.unpublish(current!),
    });
    bench.add(unpublishName, async () => stack.unpublish(current!), {
      beforeEach: async () => {
        current = await stack.newTarget();
        await stack.publish(current);
      },
    });
    await bench.run();
    const results: SuiteResult[] = [];
    for (const task of bench.tasks) {
      results.push({ ...fromTask(task), rssMb: await stack.driverRssMb(), floorRatio: null, extra: { mountMode: stack.mountMode } });
    }
    const leftover = stack.api.store.list('secretproviderclasspodstatuses', 'default');
    options.log(`node-publish: ${leftover.length} SecretProviderClassPodStatus objects created`);
    return results;
  } finally {
    await stack.close();
  }
}
