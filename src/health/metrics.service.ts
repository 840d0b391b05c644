import { Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Database, PoolStats } from '../database/database';
import { ReadReplicas } from '../database/read-replicas';
import { JobQueue, JobStats } from '../jobs/job-queue';

/**
 * Prometheus metrics, on a registry of this application's own (so that two instances in one
 * process, as in the tests, do not collide).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(database: Database, jobs: JobQueue, replicas: ReadReplicas) {
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    const poolGauge = (name: string, help: string, read: (stats: PoolStats) => number): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(database.poolStats()));
        },
      });
    };
    poolGauge('db_pool_connections', 'Connections open in the database pool', (p) => p.total);
    poolGauge('db_pool_idle_connections', 'Idle connections in the database pool', (p) => p.idle);
    poolGauge('db_pool_waiting_clients', 'Requests waiting for a database connection', (p) => p.waiting);
    this.jobMetrics(jobs);
    this.replicaMetrics(replicas);
  }

  /** Reads that may lag (lists), by where they were served; the replicas serving reads. */
  private replicaMetrics(replicas: ReadReplicas): void {
    new Counter({
      name: 'db_lagging_reads_total',
      help: 'List reads by where they were served: a read replica, or the primary (no replica, or none has the reader’s writes yet)',
      labelNames: ['target'],
      registers: [this.registry],
      collect() {
        const stats = replicas.stats();
        this.reset();
        this.inc({ target: 'replica' }, stats.replica);
        this.inc({ target: 'primary' }, stats.primary);
      },
    });
    new Gauge({
      name: 'db_replicas_serving',
      help: 'Read replicas (DATABASE_REPLICA_URLS) currently serving reads: answering, and less than 30 s behind',
      registers: [this.registry],
      collect() {
        this.set(replicas.stats().replicasHealthy);
      },
    });
  }

  /** The background job queue: its depth (all instances, from the database) and this process's attempts. */
  private jobMetrics(jobs: JobQueue): void {
    type Read = (stats: JobStats) => number;
    // One read of the queue serves every metric of a scrape (and scrapes within a second).
    let snapshot: { at: number; stats: Promise<JobStats[]> } | undefined;
    const current = (): Promise<JobStats[]> => {
      if (!snapshot || Date.now() - snapshot.at > 1000) snapshot = { at: Date.now(), stats: jobs.stats() };
      return snapshot.stats;
    };
    // Counters are set from the queue's own tallies at each scrape, like the gauges.
    const metric = (Metric: typeof Gauge | typeof Counter, name: string, help: string, read: Read): void => {
      new Metric({
        name,
        help,
        labelNames: ['queue'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const stats of await current()) {
            if (this instanceof Gauge) this.set({ queue: stats.name }, read(stats));
            else this.inc({ queue: stats.name }, read(stats));
          }
        },
      });
    };
    const gauge = (name: string, help: string, read: Read): void => metric(Gauge, name, help, read);
    const counter = (name: string, help: string, read: Read): void => metric(Counter, name, help, read);
    gauge('jobs_waiting', 'Background jobs waiting to start or to be retried, by queue', (s) => s.waiting);
    gauge('jobs_active', 'Background jobs being worked (by any instance), by queue', (s) => s.active);
    counter('jobs_completed_total', 'Job attempts of this process that succeeded, by queue', (s) => s.completed);
    counter(
      'jobs_failed_total',
      'Job attempts of this process that failed (retried or not), by queue',
      (s) => s.failed,
    );
    counter(
      'jobs_abandoned_total',
      'Jobs this process gave up on after their last retry, by queue',
      (s) => s.abandoned,
    );
  }

  /**
   * Every response, by its route template (never the raw URL): a ResponseObserver of the request
   * logger, which calls it once per request (app.setup.ts).
   */
  readonly recordResponse = (req: IncomingMessage, res: ServerResponse, durationMs: number): void => {
    const { route, baseUrl } = req as IncomingMessage & { route?: { path: string }; baseUrl?: string };
    const labels = {
      method: req.method ?? '',
      route: route ? `${baseUrl ?? ''}${route.path}` : 'unmatched',
      status: String(res.statusCode),
    };
    this.requests.inc(labels);
    this.duration.observe(labels, durationMs / 1000);
  };
}
