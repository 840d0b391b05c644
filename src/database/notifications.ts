import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../config/app-config';
import type { Transaction } from './unit-of-work';

const RECONNECT_DELAY_MS = 1000;

export interface Subscription {
  channel: string;
  onMessage: (payload: string) => void;
  /** After every (re)connection, once listening: catch up on what may have been missed. */
  onListening: () => Promise<void>;
  /** The connection dropped: messages may be missed until `onListening` runs again. */
  onLost?: () => void;
}

/**
 * PostgreSQL notifications between instances: `notify` in a transaction (delivered when it
 * commits), `listen` on a connection of its own (LISTEN holds it; it is not one of the pool's),
 * reconnected after a second whenever it drops. The listening connection goes to
 * DATABASE_DIRECT_URL (LISTEN does not pass a transaction pooler); `notify` runs in the change's
 * transaction wherever it is, since pg_notify is delivered at commit by the server itself.
 */
@Injectable()
export class Notifications implements OnApplicationShutdown {
  private readonly logger = new Logger(Notifications.name);
  private readonly clients = new Set<Client>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly config: AppConfig) {}

  async notify(tx: Transaction, channel: string, payload: string): Promise<void> {
    await tx.rows({ text: 'SELECT pg_notify($1, $2)', values: [channel, payload] });
  }

  /** Resolves once listening (and caught up); rejects if the first connection fails. */
  async listen(subscription: Subscription): Promise<void> {
    const client = new Client({
      // LISTEN holds a session: straight to the primary, past any transaction pooler.
      connectionString: this.config.databaseDirectUrl,
      application_name: 'tasklane-notifications',
    });
    client.on('notification', (message) => {
      if (message.channel === subscription.channel && message.payload) subscription.onMessage(message.payload);
    });
    client.on('error', (error) => this.logger.warn(`Listener on ${subscription.channel}: ${error.message}`));
    client.on('end', () => {
      this.clients.delete(client);
      subscription.onLost?.();
      this.reconnect(subscription);
    });
    this.clients.add(client);
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(subscription.channel)}`);
      await subscription.onListening();
    } catch (error) {
      // Its 'end' schedules the next attempt: one per connection, so one loop per subscription.
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.all([...this.clients].map((client) => client.end().catch(() => undefined)));
  }

  private reconnect(subscription: Subscription): void {
    if (this.closed) return;
    this.logger.warn(`Listener on ${subscription.channel} disconnected; reconnecting`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // A failed attempt is retried by its connection's 'end' (rescheduling here as well would
      // double the attempts at every failure during an outage).
      this.listen(subscription).catch((error: Error) => {
        this.logger.warn(`Listener on ${subscription.channel} could not reconnect: ${error.message}`);
      });
    }, RECONNECT_DELAY_MS).unref();
    this.timers.add(timer);
  }
}
