import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort, killGroup, reaper, track, untrack } from './child-processes';

// nginx (Debian's 1.22 on these machines) as the load balancer in front of several instances,
// configured as a production reverse proxy would be, on 127.0.0.1 and a free port.
//
// Failover is nginx's default `proxy_next_upstream error timeout`:
// - a request whose upstream refuses the connection, fails while it is being sent, or dies before
//   answering (a killed instance) goes to the next instance, for idempotent methods (GET, HEAD,
//   PUT, DELETE, OPTIONS);
// - a non-idempotent request (POST, PATCH, LOCK) is passed to another instance only if it had not
//   been sent yet (a refused connection); once sent, nginx answers 502 rather than risk doing it
//   twice (`non_idempotent` is not in the list);
// - an instance that failed is left out for `fail_timeout` (max_fails=1 here), then tried again,
//   which is how a restarted instance rejoins.
// Every response carries `X-Upstream-Addr` (nginx's $upstream_addr: the instance or instances
// tried, in order), so that tests can see where a request went; access.log has the same.

export interface Nginx {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** The access log so far (one line per request: status, upstream address(es), time). */
  accessLog(): string;
  stop(): Promise<void>;
}

/** The nginx binary, or undefined when it is not installed. */
export function nginxBinary(): string | undefined {
  return findBinary(['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * nginx balancing round robin over 127.0.0.1:<upstreamPorts>, with HTTP/1.1 keep-alive to the
 * instances, X-Forwarded-For appended, 20 MiB bodies, and neither request nor response buffered
 * (uploads and downloads stream through). Its prefix (config, pid, logs, temp paths) is a
 * temporary folder, removed by stop().
 */
export async function startNginx(
  upstreamPorts: number[],
  options: { failTimeoutSeconds?: number } = {},
): Promise<Nginx> {
  const binary = nginxBinary();
  if (!binary) throw new Error('nginx is not installed (apt-get install nginx)');
  const port = await freePort();
  const prefix = mkdtempSync(join(tmpdir(), 'tasklane-nginx-'));
  reaper(`dir ${prefix}`);
  const failTimeout = options.failTimeoutSeconds ?? 2;
  const config = `
daemon off;
master_process on;
worker_processes 1;
${process.getuid?.() === 0 ? 'user nobody nogroup;' : ''}
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;

events {
  worker_connections 4096;
}

http {
  log_format upstreams '$remote_addr "$request" $status upstream=$upstream_addr upstream_status=$upstream_status time=$request_time';
  access_log ${prefix}/access.log upstreams;

  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;

  upstream tasklane {
    # Round robin (the default).
${upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=${failTimeout}s;`).join('\n')}
    keepalive 64;
    # Below Node's 5 s keepAliveTimeout: nginx lets an idle connection go before the instance
    # does, so that it never sends a request on a connection the instance is closing.
    keepalive_timeout 4s;
  }

  server {
    listen 127.0.0.1:${port};
    server_tokens off;
    client_max_body_size 20m;

    location / {
      proxy_pass http://tasklane;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      # Stream uploads to the instance and downloads to the client as they come.
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_connect_timeout 5s;
      proxy_read_timeout 60s;
      # The default, spelled out: see the comment at the top of nginx.ts.
      proxy_next_upstream error timeout;
      add_header X-Upstream-Addr $upstream_addr always;
    }
  }
}
`;
  writeFileSync(join(prefix, 'nginx.conf'), config);

  let output = '';
  const child = spawn(binary, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const read = (file: string): string =>
    existsSync(join(prefix, file)) ? readFileSync(join(prefix, file), 'utf8') : '';

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, 'SIGTERM'); // fast shutdown
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    untrack(child);
    rmSync(prefix, { recursive: true, force: true });
    reaper(`-dir ${prefix}`);
  };

  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      const log = read('error.log');
      await stop();
      throw new Error(`nginx did not start:\n${output}\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, url: `http://127.0.0.1:${port}`, accessLog: () => read('access.log'), stop };
}
