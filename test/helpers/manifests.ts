/** Small manifests tests apply: a SecretProviderClass of the fake provider, a pod that mounts one. */

export function fakeSpc(name: string, namespace: string, objects: string[]): string {
  return `
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  provider: fake
  parameters:
    objects: |
${objects.map((o) => `      - objectName: ${o}`).join('\n')}
`;
}

export function podWithSecrets(name: string, namespace: string, spc: string, volume = 'secrets'): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  containers: [{name: app, image: busybox}]
  volumes:
    - name: ${volume}
      csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: ${spc}}}
`;
}
