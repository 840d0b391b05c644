import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import type { AppConfig } from '../config/app-config';
import type { Transaction, UnitOfWork } from '../database/unit-of-work';
import type { MetricsService } from '../health/metrics.service';
import type { JobKind, JobQueue } from '../jobs/job-queue';
import { DeliveryJob, WebhookDeliveries } from './webhook-deliveries';
import type { DeliveryStatus } from './webhook-delivery.entity';
import { WebhookMetrics } from './webhook-metrics';
import { MAX_ATTEMPTS } from './webhook-retry';
import type { WebhookSecrets } from './webhook-secrets';
import type { AttemptOutcome, SignedRequest, WebhookSender } from './webhook-sender';
import type { AttemptRecord, DeliveryToSend, WebhooksRepository } from './webhooks.repository';

/**
 * The retry rule of WebhookDeliveries, with its collaborators replaced by small fakes: the job
 * queue (jobs kept in a list), the repository (one delivery row in memory, recorded as the SQL of
 * recordAttempt does), the sender (an outcome chosen by the test) and a unit of work whose
 * transaction is a marker. The metrics are the real WebhookMetrics on a registry of the test's own.
 * The e2e tests cover the HTTP side; a real run to the last attempt would take 47 minutes even
 * with the smallest delay base allowed (1 s in tests).
 */
describe('WebhookDeliveries: retrying and giving up', () => {
  const DELIVERY_ID = 'delivery-1';
  /** The documented schedule with the default base of 30 s (API.md §19, WEBHOOK_HEADERS_DESCRIPTION). */
  const DOCUMENTED_DELAYS = [30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 28_800, 28_800];

  interface Enqueued {
    tx: Transaction;
    name: string;
    data: DeliveryJob;
    options?: { startAfterSeconds?: number };
  }
  interface Recorded {
    tx: Transaction;
    delivery: { id: string; webhookId: string; attempt: number };
    outcome: AttemptRecord;
  }

  let job: JobKind<DeliveryJob>;
  let enqueued: Enqueued[];
  let recorded: Recorded[];
  let sent: SignedRequest[];
  let outcome: AttemptOutcome;
  /** The delivery row, as the database would hold it. */
  let row: { status: DeliveryStatus; attempts: number; nextAttemptInSeconds: number | null };
  let registry: Registry;
  let warnings: string[];
  let transactions: Transaction[];

  function deliveries(baseSeconds = 30): WebhookDeliveries {
    const jobs = {
      define: (kind: JobKind<DeliveryJob>) => (job = kind),
      enqueue: async (
        tx: Transaction,
        kind: JobKind<DeliveryJob>,
        data: DeliveryJob,
        options?: Enqueued['options'],
      ) => {
        enqueued.push({ tx, name: kind.name, data, options });
        return `job-${enqueued.length}`;
      },
    } as unknown as JobQueue;
    const repository = {
      deliveryToSend: async (id: string): Promise<DeliveryToSend | undefined> =>
        id !== DELIVERY_ID
          ? undefined
          : {
              status: row.status,
              attempts: row.attempts,
              webhookId: 'webhook-1',
              eventId: 'event-1',
              active: true,
              url: 'https://hooks.example.com/x',
              secretSealed: 'sealed',
              payload: '{"id":"event-1"}',
            },
      // As its SQL: only a pending delivery still at this attempt is recorded.
      recordAttempt: async (tx: Transaction, delivery: Recorded['delivery'], attempt: AttemptRecord) => {
        recorded.push({ tx, delivery, outcome: attempt });
        if (row.status !== 'pending' || row.attempts !== delivery.attempt) return false;
        row = { status: attempt.status, attempts: row.attempts + 1, nextAttemptInSeconds: attempt.retryInSeconds };
        return true;
      },
      settleUnsent: async () => {
        throw new Error('not expected: the webhook is active and its secret readable');
      },
      countFailing: async () => 0,
    } as unknown as WebhooksRepository;
    const secrets = { open: () => `whsec_${Buffer.alloc(32, 1).toString('base64')}` } as unknown as WebhookSecrets;
    const sender = {
      send: async (request: SignedRequest) => {
        sent.push(request);
        return outcome;
      },
    } as unknown as WebhookSender;
    const unitOfWork = {
      run: async <T>(work: (tx: Transaction) => Promise<T>): Promise<T> => {
        const tx = { marker: `tx-${transactions.length + 1}` } as unknown as Transaction;
        transactions.push(tx);
        return work(tx);
      },
    } as unknown as UnitOfWork;
    const metrics = new WebhookMetrics({ registry } as MetricsService, repository);
    const config = { env: { WEBHOOK_RETRY_DELAY_SECONDS: baseSeconds } } as AppConfig;
    return new WebhookDeliveries(jobs, repository, secrets, sender, metrics, unitOfWork, config);
  }

  /** webhook_deliveries_total by outcome. */
  async function counted(): Promise<Record<string, number>> {
    const metric = await registry.getSingleMetric('webhook_deliveries_total')!.get();
    return Object.fromEntries(metric.values.map((v) => [String(v.labels.outcome), v.value]));
  }

  /** A pending delivery whose `attempt` earlier attempts failed: the job of its next one. */
  function pendingAt(attempt: number): DeliveryJob {
    row = { status: 'pending', attempts: attempt, nextAttemptInSeconds: 0 };
    return { deliveryId: DELIVERY_ID, attempt };
  }

  beforeEach(() => {
    enqueued = [];
    recorded = [];
    sent = [];
    transactions = [];
    warnings = [];
    registry = new Registry();
    outcome = { ok: false, statusCode: 500, error: 'HTTP 500' };
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
  });
  afterEach(() => jest.restoreAllMocks());

  it('has 11 attempts in all', () => {
    expect(MAX_ATTEMPTS).toBe(DOCUMENTED_DELAYS.length + 1);
    expect(MAX_ATTEMPTS).toBe(11);
  });

  it('the last attempt failing: the delivery is failed with no next attempt, no job is queued, it counts as failed', async () => {
    deliveries();
    await job.handle(pendingAt(MAX_ATTEMPTS - 1));
    expect(sent).toHaveLength(1);
    expect(recorded).toEqual([
      {
        tx: transactions[0],
        delivery: { id: DELIVERY_ID, webhookId: 'webhook-1', attempt: MAX_ATTEMPTS - 1 },
        outcome: { status: 'failed', statusCode: 500, error: 'HTTP 500', retryInSeconds: null, succeeded: false },
      },
    ]);
    // retryInSeconds null is what sets next_attempt_at to NULL in recordAttempt's UPDATE.
    expect(row).toEqual({ status: 'failed', attempts: MAX_ATTEMPTS, nextAttemptInSeconds: null });
    expect(enqueued).toEqual([]);
    expect(await counted()).toEqual({ succeeded: 0, retrying: 0, failed: 1 });
    expect(warnings).toEqual([`Webhook delivery ${DELIVERY_ID} attempt ${MAX_ATTEMPTS} failed (HTTP 500), giving up`]);
  });

  it.each([
    ['a timeout', { ok: false, statusCode: null, error: 'timeout' }],
    ['a refused connection', { ok: false, statusCode: null, error: 'connection refused' }],
    ['a redirect', { ok: false, statusCode: 302, error: 'redirect not followed' }],
  ])('the last attempt ending in %s gives up the same way', async (_label, failure) => {
    deliveries();
    outcome = failure;
    await job.handle(pendingAt(MAX_ATTEMPTS - 1));
    expect(row).toEqual({ status: 'failed', attempts: MAX_ATTEMPTS, nextAttemptInSeconds: null });
    expect(enqueued).toEqual([]);
    expect(await counted()).toEqual({ succeeded: 0, retrying: 0, failed: 1 });
  });

  it('the attempt before the last failing: pending, the last one queued 8 h later in the same transaction, counted as retrying', async () => {
    deliveries();
    await job.handle(pendingAt(MAX_ATTEMPTS - 2));
    expect(recorded.map((r) => r.outcome)).toEqual([
      { status: 'pending', statusCode: 500, error: 'HTTP 500', retryInSeconds: 8 * 3600, succeeded: false },
    ]);
    expect(row).toEqual({ status: 'pending', attempts: MAX_ATTEMPTS - 1, nextAttemptInSeconds: 8 * 3600 });
    expect(enqueued).toEqual([
      {
        tx: transactions[0],
        name: 'webhook.deliver',
        data: { deliveryId: DELIVERY_ID, attempt: MAX_ATTEMPTS - 1 },
        options: { startAfterSeconds: 8 * 3600 },
      },
    ]);
    expect(recorded[0].tx).toBe(enqueued[0].tx);
    expect(await counted()).toEqual({ succeeded: 0, retrying: 1, failed: 0 });
    expect(warnings).toEqual([
      `Webhook delivery ${DELIVERY_ID} attempt ${MAX_ATTEMPTS - 1} failed (HTTP 500), retry in 28800 s`,
    ]);
  });

  it('a delivery that always fails: attempts at the documented delays, then given up after the 11th, and no job after it', async () => {
    deliveries();
    let next: DeliveryJob | undefined = pendingAt(0);
    const delays: number[] = [];
    while (next) {
      const before = enqueued.length;
      await job.handle(next);
      const queued: Enqueued | undefined = enqueued[before];
      expect(enqueued.length - before).toBeLessThanOrEqual(1);
      if (queued) delays.push(queued.options!.startAfterSeconds!);
      next = queued?.data;
      expect(delays.length).toBeLessThanOrEqual(MAX_ATTEMPTS);
    }
    expect(delays).toEqual(DOCUMENTED_DELAYS);
    expect(delays.reduce((sum, d) => sum + d, 0)).toBeGreaterThanOrEqual(24 * 3600);
    expect(sent).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(sent.map((s) => s.id))).toEqual(new Set(['event-1']));
    expect(row).toEqual({ status: 'failed', attempts: MAX_ATTEMPTS, nextAttemptInSeconds: null });
    expect(await counted()).toEqual({ succeeded: 0, retrying: MAX_ATTEMPTS - 1, failed: 1 });
  });

  it('the delays scale with WEBHOOK_RETRY_DELAY_SECONDS', async () => {
    deliveries(1);
    await job.handle(pendingAt(0));
    expect(enqueued.map((e) => e.options)).toEqual([{ startAfterSeconds: 1 }]);
    await job.handle(pendingAt(MAX_ATTEMPTS - 2));
    expect(enqueued.map((e) => e.options)).toEqual([{ startAfterSeconds: 1 }, { startAfterSeconds: 960 }]);
  });

  it('a success on the last attempt: succeeded, nothing queued, counted as succeeded', async () => {
    deliveries();
    outcome = { ok: true, statusCode: 204, error: null };
    await job.handle(pendingAt(MAX_ATTEMPTS - 1));
    expect(row).toEqual({ status: 'succeeded', attempts: MAX_ATTEMPTS, nextAttemptInSeconds: null });
    expect(enqueued).toEqual([]);
    expect(await counted()).toEqual({ succeeded: 1, retrying: 0, failed: 0 });
  });

  it('the last job run again (worked twice after a crash): nothing sent, recorded, queued or counted', async () => {
    deliveries();
    const last = pendingAt(MAX_ATTEMPTS - 1);
    await job.handle(last);
    await job.handle(last);
    expect(sent).toHaveLength(1);
    expect(recorded).toHaveLength(1);
    expect(enqueued).toEqual([]);
    expect(await counted()).toEqual({ succeeded: 0, retrying: 0, failed: 1 });
  });
});
