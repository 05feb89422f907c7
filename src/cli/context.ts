// What every command needs, opened on demand and closed once at the end: the same environment and
// mapping as the relay (src/config), the same store, the same API clients (startup/clients.ts). Log lines
// of the clients go to stderr, scrubbed of secrets like the relay's; stdout is the command's answer.
import { databaseTarget, parseEnv, type Env } from '../config/env.js';
import { createLogger, type Logger } from '../log.js';
import { createClients, registerEnvSecrets, type Clients } from '../startup/clients.js';
import { openStore, type Store } from '../store/db.js';

/** Each call writes one line (or several joined by newlines). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export class CliContext {
  private env: Env | undefined;
  private store: Store | undefined;
  private clientsOf: Clients | undefined;
  private logger: Logger | undefined;

  constructor(
    readonly io: Io,
    private readonly source: Record<string, string | undefined>,
    private readonly verbose: boolean,
  ) {}

  /** The parsed environment; throws ConfigError listing every bad setting. */
  settings(): Env {
    if (!this.env) {
      this.env = parseEnv(this.source);
      registerEnvSecrets(this.env);
    }
    return this.env;
  }

  get log(): Logger {
    this.logger ??= createLogger({
      // Problems reach the operator as the command's own output; the clients' log lines only on request.
      level: this.verbose ? this.settings().LOG_LEVEL : 'silent',
      destination: { write: (line: string) => this.io.err(line.replace(/\n$/, '')) },
    });
    return this.logger;
  }

  async db(): Promise<Store> {
    this.store ??= await openStore(databaseTarget(this.settings().DATABASE_URL));
    return this.store;
  }

  async clients(): Promise<Clients> {
    this.clientsOf ??= await createClients(this.settings(), await this.db(), this.log);
    return this.clientsOf;
  }

  async close(): Promise<void> {
    await this.store?.close();
  }
}
