/** The sscsi CLI as users run it. */
import { describe, expect, it } from 'vitest';
import { startBin } from '../../harness/managed-process.js';

describe('sscsi', () => {
  it('demo publishes and unpublishes one volume end to end and exits 0', async () => {
    const proc = startBin('cli/main.js', ['demo']);
    const code = await proc.exited();
    const out = proc.stdout();
    expect(code, `${out}\n${proc.stderr()}`).toBe(0);
    expect(out).toMatch(/NodePublishVolume ok/);
    expect(out).toMatch(/✓ SecretProviderClassPodStatus default\/demo-pod-default-demo-secrets recorded/);
    expect(out).toMatch(/✓ no mount left/);
    expect(out).toMatch(/demo passed/);
    // The demo shows sizes and modes, never the secret bytes themselves.
    expect(out).not.toContain('correct-horse-battery-staple');
  });

  it('rejects an unknown command with usage', async () => {
    const proc = startBin('cli/main.js', ['frobnicate']);
    expect(await proc.exited()).toBe(2);
    expect(proc.stderr()).toMatch(/unknown command "frobnicate"/);
    expect(proc.stderr()).toMatch(/Usage: sscsi/);
  });
});
