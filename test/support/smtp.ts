import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message the receiver accepted. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
}

type Held = { release(outcome: 'accept' | 'refuse'): void };

/**
 * A real SMTP server inside the test process (smtp-server on a random loopback port), for SMTP_URL.
 * It records what it accepts; tests can make it refuse messages (a temporary 451) or hold one in the
 * middle of its DATA until told what to do (a slow or dying mail server).
 */
export class SmtpReceiver {
  readonly messages: ReceivedMail[] = [];
  private readonly events = new EventEmitter();
  private refuse = 0;
  private holding = false;
  private held: Held[] = [];
  private server!: SMTPServer;
  private port = 0;

  static async start(): Promise<SmtpReceiver> {
    const r = new SmtpReceiver();
    r.server = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      banner: 'saasready test receiver',
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const accept = async () => {
            const parsed = await simpleParser(Buffer.concat(chunks));
            r.messages.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((a) => a.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
            });
            callback();
            r.events.emit('message');
          };
          const refuse = () => {
            const err = Object.assign(new Error('try again later'), { responseCode: 451 });
            callback(err);
            r.events.emit('refused');
          };
          if (r.refuse > 0) {
            r.refuse--;
            refuse();
          } else if (r.holding) {
            r.held.push({ release: (outcome) => (outcome === 'accept' ? void accept() : refuse()) });
            r.events.emit('held');
          } else {
            void accept();
          }
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      r.server.once('error', reject);
      r.server.listen(0, '127.0.0.1', () => resolve());
    });
    r.port = (r.server.server.address() as AddressInfo).port;
    return r;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** The next `n` messages are refused with 451 (a temporary failure: the sender retries). */
  refuseNext(n: number): void {
    this.refuse = n;
  }

  /** From now on each message waits in DATA until `releaseHeld` (holding stops then). */
  hold(): void {
    this.holding = true;
  }

  /** Resolves when at least `count` messages are held (or rejects at the deadline). */
  async waitForHeld(count = 1, timeoutMs = 15_000): Promise<void> {
    await this.until(() => this.held.length >= count, 'held', timeoutMs, `${count} held message(s)`);
  }

  releaseHeld(outcome: 'accept' | 'refuse'): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const h of held) h.release(outcome);
  }

  /** The messages sent to `address` so far. */
  to(address: string): ReceivedMail[] {
    const a = address.toLowerCase();
    return this.messages.filter((m) => m.to.some((t) => t.toLowerCase() === a));
  }

  /** Waits until `count` messages to `address` have arrived; returns them (rejects at the deadline). */
  async waitFor(address: string, count = 1, timeoutMs = 15_000): Promise<ReceivedMail[]> {
    await this.until(() => this.to(address).length >= count, 'message', timeoutMs, `${count} message(s) to ${address}`);
    return this.to(address);
  }

  async close(): Promise<void> {
    this.releaseHeld('refuse');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async until(done: () => boolean, event: string, timeoutMs: number, what: string): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(this.messages.map((m) => [m.to, m.subject]))}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off(event, check);
      };
      this.events.on(event, check);
    });
  }
}

/** The token of the `{appUrl}/{page}?token=...` link in a message's text (fails if absent). */
export function linkToken(mail: ReceivedMail, appUrl: string, page: 'accept-invite' | 'reset-password' | 'verify-email'): string {
  const escaped = `${appUrl}/${page}`.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const m = new RegExp(`${escaped}\\?token=([A-Za-z0-9_%-]+)`).exec(mail.text);
  if (!m) throw new Error(`no ${page} link in: ${mail.text}`);
  return decodeURIComponent(m[1]);
}

/** Polls `check` until it passes or the deadline (for state that changes without an event to wait on). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
