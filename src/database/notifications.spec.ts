import { randomBytes } from 'node:crypto';
import { connect, createServer, Server, Socket } from 'node:net';
import { Client } from 'pg';
import type { AppConfig } from '../config/app-config';
import { Notifications } from './notifications';

/**
 * The listener against the run's PostgreSQL (jest's global setup), through a port that can be
 * shut: while the database is unreachable it retries once a second, in one loop however long the
 * outage lasts, and once it is back there is one listening connection again, not one per failure.
 */
describe('Notifications: reconnecting after the database went away', () => {
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL!;
  const channel = `tasklane_test_${randomBytes(4).toString('hex')}`;
  let attempts = 0;
  let reachable = true;
  let notifications: Notifications;
  let proxy: Server;
  let proxyUrl: string;
  const sockets = new Set<Socket>();
  /** Drops every connection through the proxy, as a database restart does. */
  const cut = () => sockets.forEach((socket) => socket.destroy());

  beforeAll(async () => {
    // A TCP proxy to PostgreSQL that refuses (resets) connections while `reachable` is false.
    const target = new URL(adminUrl);
    proxy = createServer((socket) => {
      if (!reachable) return socket.destroy();
      const upstream = connect(Number(target.port || 5432), target.hostname);
      sockets.add(socket).add(upstream);
      socket.pipe(upstream).pipe(socket);
      const close = () => {
        socket.destroy();
        upstream.destroy();
        sockets.delete(socket);
        sockets.delete(upstream);
      };
      socket.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = new URL(adminUrl);
    url.hostname = '127.0.0.1';
    url.port = String((proxy.address() as { port: number }).port);
    proxyUrl = url.toString();
  });

  afterAll(async () => {
    await notifications?.onApplicationShutdown();
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('one retry loop during an outage, one listener after it', async () => {
    const config = {
      get databaseDirectUrl() {
        attempts++;
        return proxyUrl;
      },
    } as unknown as AppConfig;
    notifications = new Notifications(config);
    const messages: string[] = [];
    let listening = 0;
    await notifications.listen({
      channel,
      onMessage: (payload) => messages.push(payload),
      onListening: () => {
        listening++;
        return Promise.resolve();
      },
    });
    expect({ attempts, listening }).toEqual({ attempts: 1, listening: 1 });

    // The database goes away for about 4.5 s: about 4 attempts, one a second.
    reachable = false;
    cut();
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    expect(attempts).toBeGreaterThanOrEqual(4);
    expect(attempts).toBeLessThanOrEqual(6);

    reachable = true;
    const listeningBefore = listening;
    const deadline = Date.now() + 5_000;
    while (listening === listeningBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // Give any other retry loop the time to come back too.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(listening).toBe(listeningBefore + 1);

    const sender = new Client({ connectionString: adminUrl });
    await sender.connect();
    try {
      await sender.query('SELECT pg_notify($1, $2)', [channel, 'hello']);
    } finally {
      await sender.end();
    }
    const until = Date.now() + 2_000;
    while (messages.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(messages).toEqual(['hello']);
  }, 20_000);
});
