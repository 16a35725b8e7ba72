/**
 * Content negotiation over raw HTTP, as kube-apiserver does it: the Accept list picks the
 * answer's encoding (protobuf for built-in kinds, never for custom resources), 406 with a
 * Status when nothing in it can be produced, 415 with a Status for a request body in a
 * Content-Type the resource does not decode. Protobuf answers are read with the test's own
 * wire reader, not the server's schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { apiRequest, apiWatch } from '../helpers/api-request.js';
import { bytesField, k8sProtobuf, mapEntry, openK8sProtobuf, protobufType, readFields, stringField } from '../helpers/protobuf-wire.js';

let api: StartedSimApiServer;
beforeAll(async () => {
  api = await new SimApiServer().start();
  await apiRequest(api, 'POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'fast' } } });
  await apiRequest(api, 'POST', '/apis/secrets-store.csi.x-k8s.io/v1/namespaces/default/secretproviderclasses', {
    body: { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'app' }, spec: { provider: 'fake', parameters: {} } },
  });
});
afterAll(async () => {
  await api?.stop();
});

const cms = '/api/v1/namespaces/default/configmaps';
const spcs = '/apis/secrets-store.csi.x-k8s.io/v1/namespaces/default/secretproviderclasses';
const kubectlAccept = `${protobufType}, */*`;

describe('answers', () => {
  it('a built-in kind in protobuf when the client lists protobuf first', async () => {
    const res = await apiRequest(api, 'GET', `${cms}/settings`, { accept: kubectlAccept });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(protobufType);
    const { apiVersion, kind, object } = openK8sProtobuf(res.raw);
    expect([apiVersion, kind]).toEqual(['v1', 'ConfigMap']);
    const meta = readFields(object.get(1)![0] as Buffer); // ObjectMeta
    expect([stringField(meta, 1), stringField(meta, 3)]).toEqual(['settings', 'default']); // name, namespace
    const entry = readFields(object.get(2)![0] as Buffer); // data: one map entry
    expect([stringField(entry, 1), stringField(entry, 2)]).toEqual(['mode', 'fast']);
  });

  it('a list in protobuf as the kind\'s List', async () => {
    const res = await apiRequest(api, 'GET', cms, { accept: protobufType });
    const { kind, object } = openK8sProtobuf(res.raw);
    expect(kind).toBe('ConfigMapList');
    expect(stringField(readFields(object.get(1)![0] as Buffer), 2)).toMatch(/^\d+$/); // ListMeta.resourceVersion
    expect(object.get(2)).toHaveLength(1); // items
  });

  it('an error in protobuf as a Status when protobuf is asked for', async () => {
    const res = await apiRequest(api, 'GET', `${cms}/missing`, { accept: kubectlAccept });
    expect(res.status).toBe(404);
    const { kind, object } = openK8sProtobuf(res.raw);
    expect(kind).toBe('Status');
    expect([stringField(object, 2), stringField(object, 4), object.get(6)?.[0]]).toEqual(['Failure', 'NotFound', 404]); // status, reason, code
    expect(stringField(object, 3)).toBe('configmaps "missing" not found');
  });

  it('JSON for a custom resource even when protobuf comes first (the real server has no protobuf for CRDs)', async () => {
    const res = await apiRequest(api, 'GET', `${spcs}/app`, { accept: kubectlAccept });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.body).toMatchObject({ kind: 'SecretProviderClass', metadata: { name: 'app' } });
  });

  it('JSON without an Accept, for */*, and by quality', async () => {
    for (const accept of [undefined, '*/*', `${protobufType};q=0.5, application/json`]) {
      const res = await apiRequest(api, 'GET', `${cms}/settings`, { accept });
      expect(res.headers.get('content-type'), accept).toBe('application/json');
      expect(res.body.data).toEqual({ mode: 'fast' });
    }
  });

  it('YAML when asked for', async () => {
    const res = await apiRequest(api, 'GET', `${cms}/settings`, { accept: 'application/yaml' });
    expect(res.headers.get('content-type')).toBe('application/yaml');
    expect(parse(res.text)).toMatchObject({ kind: 'ConfigMap', data: { mode: 'fast' } });
  });

  it('tables as JSON for kubectl get', async () => {
    const res = await apiRequest(api, 'GET', cms, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' });
    expect(res.body).toMatchObject({ kind: 'Table', columnDefinitions: [{ name: 'Name' }, { name: 'Data' }, { name: 'Age' }] });
    expect(res.body.rows[0].cells.slice(0, 2)).toEqual(['settings', 1]);
  });

  it('watches as JSON lines when the Accept allows JSON', async () => {
    const w = await apiWatch(api, `${cms}?watch=true`);
    try {
      expect(await w.next()).toMatchObject({ type: 'ADDED', object: { kind: 'ConfigMap', metadata: { name: 'settings' } } });
    } finally {
      w.close();
    }
  });
});

describe('406 Not Acceptable', () => {
  it('for an Accept the server cannot produce, naming what it can', async () => {
    const res = await apiRequest(api, 'GET', `${cms}/settings`, { accept: 'text/html' });
    expect(res.status).toBe(406);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotAcceptable', code: 406,
      message: 'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    });
  });

  it('for protobuf alone on a custom resource', async () => {
    const res = await apiRequest(api, 'GET', `${spcs}/app`, { accept: protobufType });
    expect(res.status).toBe(406);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'NotAcceptable', message: 'only the following media types are accepted: application/json, application/yaml' });
  });
});

describe('415 Unsupported Media Type', () => {
  it('for a body in a Content-Type no resource decodes', async () => {
    const res = await apiRequest(api, 'POST', cms, { body: 'mode=fast', contentType: 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'UnsupportedMediaType', code: 415,
      message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    });
  });

  it('for protobuf sent to a custom resource', async () => {
    const res = await apiRequest(api, 'POST', spcs, { body: k8sProtobuf('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClass', bytesField(1, bytesField(1, 'x'))), contentType: protobufType });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml' });
  });
});

describe('request bodies', () => {
  it('a ConfigMap in protobuf is created and reads back as JSON', async () => {
    const meta = Buffer.concat([bytesField(1, 'from-pb'), bytesField(2, ''), bytesField(3, 'default')]);
    const body = k8sProtobuf('v1', 'ConfigMap', Buffer.concat([bytesField(1, meta), mapEntry(2, 'k', 'v'), mapEntry(3, 'bin', Buffer.from([0, 255]))]));
    const res = await apiRequest(api, 'POST', cms, { body, contentType: protobufType });
    expect(res.status, res.text).toBe(201);
    const got = await apiRequest(api, 'GET', `${cms}/from-pb`);
    expect(got.body).toMatchObject({ kind: 'ConfigMap', data: { k: 'v' }, binaryData: { bin: Buffer.from([0, 255]).toString('base64') } });
    expect(got.body.metadata).not.toHaveProperty('generateName');
  });

  it('a ConfigMap in YAML', async () => {
    const res = await apiRequest(api, 'POST', cms, { body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: "1"\n', contentType: 'application/yaml' });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ metadata: { name: 'from-yaml' }, data: { a: '1' } });
  });
});
