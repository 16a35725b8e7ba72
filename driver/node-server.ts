/**
 * The CSI Node service: request validation, then the VolumePublisher; one log line per
 * publish and unpublish with who and what, never the secrets or the attributes.
 */
import type { Logger } from '../log/logger.js';
import type { NodeHandlers } from '../proto/gen/csi/v1/Node.js';
import { messageOf, statusOf, Status } from './csi-error.js';
import { deadlineOf, unary, unimplemented } from './grpc-handler.js';
import {
  validatePublishRequest,
  validateStageRequest,
  validateUnpublishRequest,
  validateUnstageRequest,
} from './request-validation.js';
import { volumeContextKeys, type VolumePublisher } from './volume-publisher.js';

export interface NodeServerOptions {
  nodeId: string;
}

export function nodeServer(publisher: VolumePublisher, options: NodeServerOptions, logger: Logger): NodeHandlers {
  return {
    NodePublishVolume: unary(async (req, call) => {
      validatePublishRequest(req);
      const ctx = req.volume_context;
      const fields = {
        pod: ctx[volumeContextKeys.podName],
        namespace: ctx[volumeContextKeys.podNamespace],
        spc: ctx[volumeContextKeys.secretProviderClass],
        volumeId: req.volume_id,
        targetPath: req.target_path,
      };
      const started = performance.now();
      try {
        const result = await publisher.publish(req, deadlineOf(call));
        const ms = Math.round((performance.now() - started) * 100) / 100;
        if (result.outcome === 'already-mounted') logger.debug({ ...fields, ms }, 'volume already mounted');
        else logger.info({ ...fields, ...result, ms }, 'node publish volume succeeded');
        return {};
      } catch (err) {
        logger.error({ ...fields, code: Status[statusOf(err)], err: messageOf(err) }, 'node publish volume failed');
        throw err;
      }
    }),

    NodeUnpublishVolume: unary(async (req) => {
      validateUnpublishRequest(req);
      try {
        await publisher.unpublish(req.target_path);
        logger.info({ volumeId: req.volume_id, targetPath: req.target_path }, 'node unpublish volume succeeded');
        return {};
      } catch (err) {
        logger.error({ volumeId: req.volume_id, targetPath: req.target_path, err: messageOf(err) }, 'node unpublish volume failed');
        throw err;
      }
    }),

    // Inline ephemeral volumes are never staged; these only validate, as upstream does.
    NodeStageVolume: unary((req) => {
      validateStageRequest(req);
      return {};
    }),
    NodeUnstageVolume: unary((req) => {
      validateUnstageRequest(req);
      return {};
    }),

    NodeGetCapabilities: unary(() => ({ capabilities: [{ rpc: { type: 'STAGE_UNSTAGE_VOLUME' } }, { rpc: { type: 'VOLUME_MOUNT_GROUP' } }] })),
    NodeGetInfo: unary(() => ({ node_id: options.nodeId, max_volumes_per_node: '0' })),
    NodeGetVolumeStats: unimplemented('NodeGetVolumeStats'),
    NodeExpandVolume: unimplemented('NodeExpandVolume'),
  };
}
