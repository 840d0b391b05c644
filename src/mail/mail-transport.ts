import { Logger } from '@nestjs/common';
import { createTransport, Transporter } from 'nodemailer';
import type { MailMessage } from './mail-message';

/** Where mail goes: an SMTP server, or (no SMTP_URL, outside production) the log. */
export abstract class MailTransport {
  abstract send(message: MailMessage): Promise<void>;
  close(): void {}
}

/** nodemailer over SMTP (`smtp://user:pass@host:587`, `smtps://…:465`). */
export class SmtpMailTransport extends MailTransport {
  private readonly transporter: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    super();
    // Bounded waits: a hung server fails the attempt (retried later) instead of holding a worker.
    this.transporter = createTransport({
      url: smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  async send(message: MailMessage): Promise<void> {
    await this.transporter.sendMail({ from: this.from, ...message });
  }

  override close(): void {
    this.transporter.close();
  }
}

/** Development without a mail server: the message, link included, is written to the log. */
export class LogMailTransport extends MailTransport {
  private readonly logger = new Logger('Mail');

  send(message: MailMessage): Promise<void> {
    this.logger.log(`Mail to ${message.to} (not sent: SMTP_URL is not set): ${message.subject}\n${message.text}`);
    return Promise.resolve();
  }
}
