import type { DynamicModule, Type } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { connect, Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { trackInFlight } from '../../src/lifecycle/graceful-shutdown';
import { createTestApp, createTestDatabase, TestApp } from './test-app';

export interface ShutdownTestApp {
  t: TestApp;
  /** What main.ts passes to shutDownGracefully. */
  inFlight: Set<ServerResponse>;
  port: number;
  /** Closes the app if the test did not shut it down, then drops the database. */
  dispose(): Promise<void>;
}

/**
 * A test app set up the way main.ts sets up the server (trackInFlight right after listen), on a
 * database this helper owns: shutDownGracefully closes the app itself, so TestApp.close() (which
 * would close it a second time) is only used when the test did not get that far.
 */
export async function createShutdownTestApp(imports: (Type | DynamicModule)[]): Promise<ShutdownTestApp> {
  const database = await createTestDatabase();
  const t = await createTestApp({ databaseUrl: database.url, imports });
  const inFlight = trackInFlight(t.server);
  return {
    t,
    inFlight,
    port: (t.server.address() as AddressInfo).port,
    dispose: async () => {
      if (t.server.listening) await t.close();
      await database.drop();
    },
  };
}

/** A plain TCP connection to the server, for requests written by hand. */
export function openConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Everything the server sends on this connection until it closes it, parsed as one response. */
export function readResponseUntilClose(socket: Socket): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
      if (!status) return reject(new Error(`No HTTP response before the connection closed: ${JSON.stringify(text)}`));
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers, body: rest.join('\r\n\r\n') });
    });
  });
}
