// The relay as a process: read .env, parse config, start, and stop cleanly on SIGTERM/SIGINT.
import 'dotenv/config';
import { ConfigError, parseEnv } from './config/env.js';
import { createLogger } from './log.js';
import { startRelay } from './relay.js';

async function main(): Promise<void> {
  let env;
  try {
    env = parseEnv(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee .env.example for every setting.\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: env.LOG_LEVEL, pretty: env.LOG_FORMAT === 'pretty' });
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));

  let relay;
  try {
    relay = await startRelay(env, { log });
  } catch (err) {
    if (err instanceof ConfigError) {
      log.fatal({ problems: err.problems }, 'configuration error');
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    log.fatal({ err }, 'could not start');
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, 'signal received');
    relay
      .stop()
      .then(() => process.exit(0))
      .catch((err) => {
        log.error({ err }, 'unclean shutdown');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

void main();
