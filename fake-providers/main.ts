#!/usr/bin/env node
/** fake-provider: parses flags and starts a fake provider; logic lives elsewhere. */
import { parseArgs } from 'node:util';
import { createLogger } from '../log/logger.js';
import { startFakeProvider } from './fake-provider.js';

const usage = `Usage: fake-provider --name NAME --socket PATH [--store FILE] [--control-addr HOST:PORT] [--log-format-json] [-v N]

  --name           provider name, as in SecretProviderClass spec.provider
  --socket         unix socket to serve on (the driver looks for <provider-dir>/<name>.sock)
  --store          YAML store: objects: [{name, version, contents | contentsBase64}] (default fake-providers/examples/store.yaml)
  --control-addr   control API address, e.g. 127.0.0.1:0 for a free port (default: none)
  --log-format-json  JSON log lines on stderr (default: text lines)
`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        name: { type: 'string' },
        socket: { type: 'string' },
        store: { type: 'string' },
        'control-addr': { type: 'string' },
        'log-format-json': { type: 'boolean', default: false },
        v: { type: 'string', short: 'v', default: '0' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    process.stderr.write(`fake-provider: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (!values.name || !values.socket) {
    process.stderr.write(`fake-provider: --name and --socket are required\n${usage}`);
    return 2;
  }
  const logger = createLogger({ name: 'fake-provider', level: values.v, json: values['log-format-json'] });
  let provider;
  try {
    provider = await startFakeProvider({
      name: values.name,
      socket: values.socket,
      ...(values.store ? { storeFile: values.store } : {}),
      ...(values['control-addr'] ? { controlAddr: values['control-addr'] } : {}),
      logger,
    });
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'fake provider failed to start');
    return 1;
  }
  process.stdout.write(`${JSON.stringify({ ready: true, name: provider.name, socket: provider.socket, control: provider.control })}\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'shutting down');
  await provider.close();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
