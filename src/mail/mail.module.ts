import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { LogMailTransport, MailTransport, SmtpMailTransport } from './mail-transport';
import { Mailer } from './mailer';

/** Outgoing mail: the Mailer (an outbox on the job queue) and its transport (SMTP_URL, or the log). */
@Global()
@Module({
  providers: [
    {
      provide: MailTransport,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        config.env.SMTP_URL ? new SmtpMailTransport(config.env.SMTP_URL, config.mailFrom) : new LogMailTransport(),
    },
    Mailer,
  ],
  exports: [Mailer],
})
export class MailModule {}
