import { LoggerService } from '@nestjs/common';
import pino, { Logger as Pino } from 'pino';
import { RequestContext } from '../context/request-context';

/** Paths never written to the log. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.invitation_token',
  '*.two_factor_code',
  '*.code',
  '*.secret',
  '*.backup_codes',
];

export function createPino(level: string): Pino {
  return pino({
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'saasready' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** Nest's LoggerService on pino; adds the request id of the current request. */
export class PinoLogger implements LoggerService {
  constructor(readonly pino: Pino) {}

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, context?: string, extra?: unknown): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const request_id = RequestContext.requestId();
    const fields: Record<string, unknown> = { context };
    if (request_id) fields.request_id = request_id;
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      const { msg, ...rest } = message as Record<string, unknown>;
      this.pino[level]({ ...fields, ...rest }, typeof msg === 'string' ? msg : '');
    } else {
      if (extra !== undefined) fields.detail = extra;
      this.pino[level](fields, String(message));
    }
  }

  log(message: unknown, context?: string): void {
    this.write('info', message, context);
  }
  error(message: unknown, stackOrContext?: string, context?: string): void {
    this.write('error', message, context ?? stackOrContext, context ? stackOrContext : undefined);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }
}
