/**
 * The kubelet's layout of a pod's CSI volumes (cluster/kubelet-layout.ts) as the kubelet
 * makes it — the expected paths are written out here, not computed — its traversal guard,
 * and the simulated kubelet laying volumes out the same way.
 */
import { describe, expect, it } from 'vitest';
import { csiVolumeDir, defaultKubeletRoot, isCsiVolumeMount, podsDir, targetPath, volumeFilePath, VolumePathError } from '../../cluster/kubelet-layout.js';
import { ObjectStore } from '../../sim/apiserver/object-store.js';
import { SimKubelet } from '../../sim/kubelet/kubelet.js';
import { createLogger } from '../../log/logger.js';

const uid = '6f1c2e0a-0000-4000-8000-000000000001';

describe('kubelet layout', () => {
  it('puts a CSI volume where the kubelet does', () => {
    expect(podsDir(defaultKubeletRoot)).toBe('/var/lib/kubelet/pods');
    expect(csiVolumeDir(defaultKubeletRoot, uid, 'secrets')).toBe(`/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~csi/secrets`);
    expect(targetPath(defaultKubeletRoot, uid, 'secrets')).toBe(`/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~csi/secrets/mount`);
    expect(volumeFilePath('/r', uid, 'v', 'dir/file')).toBe(`/r/pods/${uid}/volumes/kubernetes.io~csi/v/mount/dir/file`);
  });

  it('refuses a file path that leaves the volume, and a uid or volume name that walks', () => {
    for (const path of ['../x', '../../../../etc/shadow', '/etc/shadow', '.', '', 'a/../../b']) {
      expect(() => volumeFilePath('/r', uid, 'v', path), path).toThrow(VolumePathError);
    }
    expect(volumeFilePath('/r', uid, 'v', 'a/../b')).toBe(`/r/pods/${uid}/volumes/kubernetes.io~csi/v/mount/b`);
    for (const name of ['..', '.', '', 'a/b', 'a\0b']) {
      expect(() => targetPath('/r', name, 'v'), `uid ${name}`).toThrow(VolumePathError);
      expect(() => volumeFilePath('/r', uid, name, 'f'), `volume ${name}`).toThrow(VolumePathError);
    }
  });

  it('tells CSI volume mounts under the pods dir from others', () => {
    expect(isCsiVolumeMount(`/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~csi/s/mount`, defaultKubeletRoot)).toBe(true);
    expect(isCsiVolumeMount(`/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~projected/token`, defaultKubeletRoot)).toBe(false);
    expect(isCsiVolumeMount(`/elsewhere/pods/${uid}/volumes/kubernetes.io~csi/s/mount`, defaultKubeletRoot)).toBe(false);
  });

  it('is the layout the simulated kubelet makes', () => {
    const kubelet = new SimKubelet({ store: new ObjectStore(), nodeName: 'n', rootDir: '/sim/kubelet', csiSocket: '/nowhere.sock', logger: createLogger({ name: 'test', level: 'silent' }) });
    expect(kubelet.targetPath(uid, 'secrets')).toBe(targetPath('/sim/kubelet', uid, 'secrets'));
  });
});
