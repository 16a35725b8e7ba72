/**
 * The boundary to `kubectl port-forward`: the harness reaches a pod's port (the fake
 * provider's control API) on 127.0.0.1. `KubectlPortForwarder` is the real one; tests
 * script a fake.
 */
import { execa } from 'execa';

export interface PortForward {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  stop(): Promise<void>;
}

export interface PortForwarder {
  forward(context: string, namespace: string, pod: string, port: number): Promise<PortForward>;
}

export class KubectlPortForwarder implements PortForwarder {
  async forward(context: string, namespace: string, pod: string, port: number): Promise<PortForward> {
    const proc = execa('kubectl', ['--context', context, '-n', namespace, 'port-forward', `pod/${pod}`, `127.0.0.1::${port}`], { reject: false, stdin: 'ignore' });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`kubectl port-forward to ${namespace}/${pod}:${port} did not start within 30 s: ${out.trim()}`)), 30_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${m[1]}`);
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      void proc.then((r) => {
        clearTimeout(timer);
        reject(new Error(`kubectl port-forward to ${namespace}/${pod}:${port} exited with ${r.exitCode}: ${out.trim()}`));
      });
    });
    return {
      url,
      async stop() {
        proc.kill('SIGTERM');
        await proc;
      },
    };
  }
}
