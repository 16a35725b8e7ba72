/**
 * The CSI, provider and kubelet plugin-registration protos as grpc-js service definitions, typed by the interfaces
 * proto-loader-gen-types generated into proto/gen (`npm run gen`).
 *
 * The descriptors are built into proto/gen/descriptors.ts at `npm run gen` and turned into
 * message codecs by protobufjs/light: no .proto text is parsed at start, and neither
 * protobufjs' parser nor @grpc/proto-loader (with the descriptor.proto reflection it builds
 * for every type) is loaded. Measured on the driver (README "A lean node agent"): 3–4 MiB
 * less idle RSS and a faster start. The (de)serializers are proto-loader's, with its
 * options as the gen-types flags in package.json state them: snake_case field names as in
 * the .proto files (`keepCase`), 64-bit integers as strings, enums as their names,
 * defaults filled in and oneof discriminators present.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import { csiDescriptor, pluginRegistrationDescriptor, providerDescriptor } from './gen/descriptors.js';
import type { ProtoGrpcType as CsiProto } from './gen/csi.js';
import type { ProtoGrpcType as ProviderProto } from './gen/provider.js';
import type { ProtoGrpcType as PluginRegistrationProto } from './gen/pluginregistration.js';

/** How decoded messages are turned into plain objects (proto-loader's options). */
export const toObjectOptions: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

/** A method of a service, as @grpc/proto-loader describes one. */
export interface MethodDefinition<Req, Res> extends grpc.MethodDefinition<Req, Res> {
  originalName: string;
}
export type PackageDefinition = Record<string, Record<string, MethodDefinition<object, object>>>;

/** Every service of `root` by its full name, each method with its path and codecs. */
function packageDefinition(descriptor: protobuf.INamespace): PackageDefinition {
  const root = protobuf.Root.fromJSON(descriptor);
  const out: PackageDefinition = {};
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Service) {
        const name = child.fullName.slice(1);
        out[name] = Object.fromEntries(
          child.methodsArray.map((m) => {
            m.resolve();
            const req = m.resolvedRequestType!;
            const res = m.resolvedResponseType!;
            const method: MethodDefinition<object, object> = {
              path: `/${name}/${m.name}`,
              requestStream: !!m.requestStream,
              responseStream: !!m.responseStream,
              requestSerialize: (o) => Buffer.from(req.encode(req.fromObject(o)).finish()),
              requestDeserialize: (b) => req.toObject(req.decode(b), toObjectOptions),
              responseSerialize: (o) => Buffer.from(res.encode(res.fromObject(o)).finish()),
              responseDeserialize: (b) => res.toObject(res.decode(b), toObjectOptions),
              originalName: m.name.charAt(0).toLowerCase() + m.name.slice(1),
            };
            return [m.name, method];
          }),
        );
      } else if (child instanceof protobuf.Namespace) visit(child);
    }
  };
  visit(root);
  return out;
}

let csi: CsiProto | undefined;
let provider: ProviderProto | undefined;
let providerDefinition: PackageDefinition | undefined;
let pluginRegistration: PluginRegistrationProto | undefined;

/** The provider proto's package definition: its services with their (de)serializers. */
export function providerPackageDefinition(): PackageDefinition {
  providerDefinition ??= packageDefinition(providerDescriptor);
  return providerDefinition;
}

/** The csi.v1 package: Identity, Node and Controller services. */
export function loadCsiProto(): CsiProto {
  csi ??= grpc.loadPackageDefinition(packageDefinition(csiDescriptor) as unknown as Parameters<typeof grpc.loadPackageDefinition>[0]) as unknown as CsiProto;
  return csi;
}

/** The v1alpha1 package: the CSIDriverProvider service every provider serves. */
export function loadProviderProto(): ProviderProto {
  provider ??= grpc.loadPackageDefinition(providerPackageDefinition() as unknown as Parameters<typeof grpc.loadPackageDefinition>[0]) as unknown as ProviderProto;
  return provider;
}

/** The kubelet's pluginregistration package: the Registration service a node plugin's registrar serves. */
export function loadPluginRegistrationProto(): PluginRegistrationProto {
  pluginRegistration ??= grpc.loadPackageDefinition(
    packageDefinition(pluginRegistrationDescriptor) as unknown as Parameters<typeof grpc.loadPackageDefinition>[0],
  ) as unknown as PluginRegistrationProto;
  return pluginRegistration;
}
