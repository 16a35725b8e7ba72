/**
 * The kubelet's side of a CSI driver's registration (pluginregistration.Registration): the
 * kubelet's plugin watcher finds our socket in plugins_registry, asks GetInfo (type
 * CSIPlugin, the driver's name, the driver's socket on the host, the versions of the
 * kubelet's CSI client we accept), then tells us how it went with NotifyRegistrationStatus.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../log/logger.js';
import type { RegistrationHandlers } from '../../proto/gen/pluginregistration/Registration.js';

/** The versions of the kubelet's CSI plugin API a registrar offers, as upstream's registrar does. */
export const supportedVersions: readonly string[] = ['1.0.0'];

export interface RegistrationInfo {
  driverName: string;
  /** The CSI driver's socket as the kubelet sees it (--kubelet-registration-path). */
  endpoint: string;
  /** Created on every GetInfo: what `--mode=kubelet-registration-probe` looks for. */
  registrationProbeFile: string;
}

export interface RegistrationOutcome {
  /** The kubelet said the plugin is registered. */
  registered(): void;
  /** The kubelet refused the plugin, with its reason: the registrar must exit non-zero (a restart retries). */
  failed(error: string): void;
}

export function registrationServer(info: RegistrationInfo, outcome: RegistrationOutcome, log: Logger): RegistrationHandlers {
  return {
    GetInfo(_call, callback) {
      log.info('received GetInfo call');
      mkdir(dirname(info.registrationProbeFile), { recursive: true })
        .then(() => writeFile(info.registrationProbeFile, '', { flag: 'a' }))
        .then(
          () => log.debug({ path: info.registrationProbeFile }, 'kubelet registration probe file created'),
          (err: Error) => log.error({ path: info.registrationProbeFile, err: err.message }, 'failed to create the registration probe file'),
        )
        .finally(() => callback(null, { type: 'CSIPlugin', name: info.driverName, endpoint: info.endpoint, supported_versions: [...supportedVersions] }));
    },
    NotifyRegistrationStatus(call, callback) {
      const { plugin_registered: registered, error } = call.request;
      log.info({ pluginRegistered: registered, error }, 'received NotifyRegistrationStatus call');
      callback(null, {});
      if (registered) outcome.registered();
      else outcome.failed(error);
    },
  };
}

