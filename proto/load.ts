/**
 * Loads the CSI, provider and kubelet plugin-registration protos at run time with
 * @grpc/proto-loader and returns them typed by the interfaces proto-loader-gen-types
 * generated into proto/gen (`npm run gen`).
 * The loader options here must match the generator flags in package.json's `gen` script:
 * snake_case field names as in the .proto files, 64-bit integers as strings, enums as
 * their names, defaults filled in and oneof discriminators present.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType as CsiProto } from './gen/csi.js';
import type { ProtoGrpcType as ProviderProto } from './gen/provider.js';
import type { ProtoGrpcType as PluginRegistrationProto } from './gen/pluginregistration.js';

export const protoLoaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

function protoPath(name: string): string {
  // The .proto files sit beside this module, in the source tree and in dist/proto alike.
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

let csi: CsiProto | undefined;
let provider: ProviderProto | undefined;
let providerDefinition: protoLoader.PackageDefinition | undefined;
let pluginRegistration: PluginRegistrationProto | undefined;

/** The provider proto's package definition: its services with their (de)serializers. */
export function providerPackageDefinition(): protoLoader.PackageDefinition {
  providerDefinition ??= protoLoader.loadSync(protoPath('provider.proto'), protoLoaderOptions);
  return providerDefinition;
}

/** The csi.v1 package: Identity, Node and Controller services and their messages. */
export function loadCsiProto(): CsiProto {
  csi ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(protoPath('csi.proto'), protoLoaderOptions),
  ) as unknown as CsiProto;
  return csi;
}

/** The v1alpha1 package: the CSIDriverProvider service every provider serves. */
export function loadProviderProto(): ProviderProto {
  provider ??= grpc.loadPackageDefinition(providerPackageDefinition()) as unknown as ProviderProto;
  return provider;
}

/** The kubelet's pluginregistration package: the Registration service a node plugin's registrar serves. */
export function loadPluginRegistrationProto(): PluginRegistrationProto {
  pluginRegistration ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(protoPath('pluginregistration.proto'), protoLoaderOptions),
  ) as unknown as PluginRegistrationProto;
  return pluginRegistration;
}
