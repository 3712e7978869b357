import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';

const SPARE_CONNECTIONS = 16;

export interface EmbeddedConnection {
  host: string;
  port: number;
}

/**
 * The embedded PostgreSQL of the zero-set-up mode: PGlite (Postgres compiled to WASM) with its data in
 * DATA_DIR/pgdata, served over the Postgres wire protocol on a unix socket inside DATA_DIR (mode 0700)
 * by pglite-socket, so TypeORM and `pg` run unchanged. One per process.
 */
export class EmbeddedPostgres {
  private static instance: EmbeddedPostgres | undefined;
  private readonly logger = new Logger('EmbeddedPostgres');
  private server?: { stop(): Promise<void> };
  private db?: { close(): Promise<void> };
  private conn?: EmbeddedConnection;
  private refs = 0;

  private constructor(private readonly dataDir: string) {}

  static for(dataDir: string): EmbeddedPostgres {
    if (!this.instance || this.instance.dataDir !== dataDir) this.instance = new EmbeddedPostgres(dataDir);
    return this.instance;
  }

  async start(maxConnections: number): Promise<EmbeddedConnection> {
    this.refs++;
    if (this.conn) return this.conn;
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const pgdata = join(this.dataDir, 'pgdata');
    const db = await PGlite.create({ dataDir: pgdata });
    const port = 5432;
    const socketPath = join(this.dataDir, `.s.PGSQL.${port}`);
    // The socket server refuses (EPIPE at the client) any connection over its limit instead of queueing it,
    // so it admits more than the pool opens: another pool (a second app, the CLI), a test's SQL client and
    // connections still closing count too. PGlite runs one query at a time whatever the count.
    const limit = maxConnections + SPARE_CONNECTIONS;
    let server: InstanceType<typeof PGLiteSocketServer>;
    if (socketPath.length < 100) {
      if (existsSync(socketPath)) rmSync(socketPath); // stale socket of a killed process
      server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: limit });
      await server.start();
      this.conn = { host: this.dataDir, port };
    } else {
      server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: limit });
      await server.start();
      const [, p] = server.getServerConn().split(':');
      this.conn = { host: '127.0.0.1', port: Number(p) };
    }
    this.db = db;
    this.server = server;
    this.logger.log(`embedded PostgreSQL (PGlite) ready, data in ${pgdata}`);
    return this.conn;
  }

  async stop(): Promise<void> {
    if (--this.refs > 0) return;
    const server = this.server;
    const db = this.db;
    this.server = undefined;
    this.db = undefined;
    this.conn = undefined;
    await server?.stop();
    await db?.close();
  }
}
