import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';

type Handler = (message: string) => void;

/**
 * The topic of session-state invalidations (SessionService in libs/auth subscribes). Messages: a session
 * id, or `user:<userId>` for every session of a user. Libs below auth publish on it by this name.
 */
export const SESSION_INVALIDATION_TOPIC = 'session';

/**
 * Cache invalidation across API instances. Local handlers run synchronously inside `publish`, so this
 * instance sees a change before the request that made it answers; with Redis the message also goes to
 * every other instance (pub/sub) before `publish` resolves.
 */
@Injectable()
export class InvalidationBus implements OnModuleDestroy {
  private readonly logger = new Logger('InvalidationBus');
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly instanceId = randomUUID();
  private static readonly CHANNEL = 'saasready:invalidate';

  constructor(
    private readonly publisher?: Redis,
    private readonly subscriber?: Redis,
  ) {
    if (subscriber) {
      subscriber.subscribe(InvalidationBus.CHANNEL).catch((e: unknown) => this.logger.error(`subscribe failed: ${String(e)}`));
      subscriber.on('message', (_channel: string, raw: string) => {
        const sep = raw.indexOf('|');
        const sep2 = raw.indexOf('|', sep + 1);
        if (sep < 0 || sep2 < 0 || raw.slice(0, sep) === this.instanceId) return;
        this.deliver(raw.slice(sep + 1, sep2), raw.slice(sep2 + 1));
      });
      // After a reconnect, messages may have been missed: drop every cache.
      subscriber.on('ready', () => this.deliver('*', ''));
    }
  }

  on(topic: string, handler: Handler): void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
  }

  async publish(topic: string, message: string): Promise<void> {
    this.deliver(topic, message);
    if (this.publisher) {
      try {
        await this.publisher.publish(InvalidationBus.CHANNEL, `${this.instanceId}|${topic}|${message}`);
      } catch (e) {
        this.logger.error(`publish failed (other instances keep stale caches until their TTL): ${String(e)}`);
      }
    }
  }

  private deliver(topic: string, message: string): void {
    const targets = topic === '*' ? [...this.handlers.values()] : [this.handlers.get(topic)];
    for (const set of targets) for (const h of set ?? []) h(topic === '*' ? '*' : message);
  }

  async onModuleDestroy(): Promise<void> {
    this.subscriber?.disconnect();
  }
}

/**
 * A bounded map with per-entry expiry, evicting the oldest entry when full. Every invalidation bumps
 * `epoch`; a value read from the database before an invalidation is not cached after it (`fill`).
 */
export class TtlCache<V> {
  private readonly map = new Map<string, { value: V; expires: number }>();
  private epoch = 0;
  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  get(key: string, now = Date.now()): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, now = Date.now(), ttlMs = this.ttlMs): void {
    if (this.map.size >= this.maxEntries && !this.map.has(key)) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(key, { value, expires: now + ttlMs });
  }

  /**
   * Reads through: `load` runs on a miss, and its result is cached unless an invalidation raced it. A hit
   * is answered as it is, without a promise (the hot path of every authenticated request reads several
   * of these caches); callers `await` either.
   */
  fill(key: string, load: () => Promise<V>, cacheable = true): V | Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const epoch = this.epoch;
    return load().then((value) => {
      if (cacheable && epoch === this.epoch) this.set(key, value);
      return value;
    });
  }

  delete(key: string): void {
    this.epoch++;
    this.map.delete(key);
  }

  deleteWhere(pred: (key: string, value: V) => boolean): void {
    this.epoch++;
    for (const [k, e] of this.map) if (pred(k, e.value)) this.map.delete(k);
  }

  clear(): void {
    this.epoch++;
    this.map.clear();
  }
}
