import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { hostOf, WebhookTargets } from './webhook-target';

/** A delivery attempt's whole budget: connecting, sending and the answer's status line (contract §19). */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** What an attempt came to: `error` is a short kind (never a stack or a server's words). */
export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

export interface SignedRequest {
  url: string;
  /** `whsec_…` */
  secret: string;
  /** The event id: the `webhook-id` header, the same on every attempt. */
  id: string;
  /** The event, exactly as stored. */
  body: string;
}

/** The three Standard Webhooks headers for `body`, signed now. */
export function signatureHeaders(request: Omit<SignedRequest, 'url'>, now = new Date()): Record<string, string> {
  // Whole seconds: the timestamp header is Unix seconds, and the signature covers that value.
  const at = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return {
    'webhook-id': request.id,
    'webhook-timestamp': String(at.getTime() / 1000),
    'webhook-signature': new Webhook(request.secret).sign(request.id, at, request.body),
  };
}

/** The short reason of a failed connection or request. */
function errorKind(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ETIMEOUT':
      return 'timeout';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host does not resolve';
    case 'EPRIVATE':
      return error.message;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      if (error.code?.startsWith('ERR_TLS') || /CERT|SSL|TLS/.test(error.code ?? '')) return 'TLS error';
      return 'request failed';
  }
}

/**
 * Sends one signed webhook request: POST, JSON, the Standard Webhooks headers, 10 s for
 * everything up to the answer's status, redirects not followed, the answer's body not read.
 * The target is checked again here (literal addresses by `parse`, names by the lookup, which
 * connects to the address it checked); no socket is opened to a refused address.
 */
export class WebhookSender {
  constructor(private readonly targets: WebhookTargets) {}

  send(request: SignedRequest): Promise<AttemptOutcome> {
    const { url, problem } = this.targets.parse(request.url);
    if (!url || problem) return Promise.resolve({ ok: false, statusCode: null, error: problem ?? 'invalid url' });
    const body = Buffer.from(request.body, 'utf8');
    const host = hostOf(url);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<AttemptOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const req = client.request(
        {
          method: 'POST',
          protocol: url.protocol,
          hostname: host,
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            'user-agent': 'Tasklane-Webhooks/1',
            ...signatureHeaders(request),
          },
          lookup: this.targets.lookup,
          // One connection per attempt, to the address just checked: no pooled socket from before.
          agent: false,
          // SNI takes the name without a trailing dot (RFC 6066).
          ...(url.protocol === 'https:' && !isIP(host) ? { servername: host.replace(/\.$/, '') } : {}),
        },
        (res) => {
          const statusCode = res.statusCode ?? 0;
          // Only the status matters: the body is never read, the connection closed.
          res.destroy();
          if (statusCode >= 200 && statusCode < 300) return finish({ ok: true, statusCode, error: null });
          const error = statusCode >= 300 && statusCode < 400 ? 'redirect not followed' : `HTTP ${statusCode}`;
          finish({ ok: false, statusCode, error });
        },
      );
      const timer = setTimeout(() => {
        finish({ ok: false, statusCode: null, error: 'timeout' });
        req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }));
      }, WEBHOOK_TIMEOUT_MS).unref();
      req.on('error', (error: NodeJS.ErrnoException) =>
        finish({ ok: false, statusCode: null, error: errorKind(error) }),
      );
      req.end(body);
    });
  }
}
