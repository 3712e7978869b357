import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { APP_CONFIG, AppConfig } from '@saasready/core';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Sends one message: SMTP (nodemailer, SMTP_URL, a small connection pool) or, with SMTP_URL unset, the
 * log (links included: the zero-set-up mode's way to read them). Timeouts are bounded so a stuck
 * server fails the attempt (and it is retried) instead of holding a job forever.
 */
@Injectable()
export class MailTransport implements OnApplicationShutdown {
  private readonly logger = new Logger('Mail');
  private readonly transporter?: Transporter;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    if (config.smtpUrl) {
      this.transporter = createTransport(
        {
          url: config.smtpUrl,
          pool: true,
          maxConnections: 3,
          connectionTimeout: 10_000,
          greetingTimeout: 10_000,
          socketTimeout: 30_000,
        } as Parameters<typeof createTransport>[0],
        { from: config.mailFrom },
      );
    }
  }

  /** Where mail goes: `smtp` or `log`. */
  get mode(): 'smtp' | 'log' {
    return this.transporter ? 'smtp' : 'log';
  }

  async send(message: MailMessage): Promise<void> {
    if (!this.transporter) {
      this.logger.log({
        msg: `email to ${message.to} (SMTP_URL is not set: written to the log instead of sent)`,
        to: message.to,
        subject: message.subject,
        body: message.text,
      });
      return;
    }
    await this.transporter.sendMail({ to: message.to, subject: message.subject, text: message.text, html: message.html });
  }

  onApplicationShutdown(): void {
    this.transporter?.close();
  }
}
