import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { collectDefaultMetrics, Metric, Registry } from 'prom-client';
import { Public } from '../http/route-access';

/** One registry per process: Node's default metrics plus HTTP request durations by route and status. */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'saasready_' });

/** One line of the exposition, as prom-client's metrics give them from `get()`. */
export interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

interface Series {
  labels: { method: string; route: string; status: string };
  /** Observations per bucket (not cumulative); the last slot counts those above the largest bound. */
  counts: number[];
  sum: number;
}

/**
 * A Prometheus histogram of request durations by method, route pattern and status, exposed through
 * prom-client's registry like its own Histogram (same text and JSON shape). It exists because every
 * request observes it: prom-client's `observe` validates and hashes the label object on each call,
 * about 4 % of a light route's CPU in `npm run bench`; here an observation is a Map lookup on the
 * series key and two additions.
 */
export class RequestDurationHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${status} ${method} ${route}`;
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { method, route, status: String(status) }, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0 };
      this.series.set(key, s);
    }
    let i = 0;
    while (i < this.buckets.length && seconds > this.buckets[i]) i++;
    s.counts[i]++;
    s.sum += seconds;
  }

  /** The values as prom-client's Histogram gives them: cumulative `_bucket`s with `le`, `_sum`, `_count`. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramValue[] }> {
    const values: HistogramValue[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i];
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: cumulative });
      });
      cumulative += s.counts[this.buckets.length];
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: cumulative });
      values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: cumulative });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series = new Map();
  }
}

export const httpDuration = new RequestDurationHistogram(
  'saasready_http_request_duration_seconds',
  'HTTP request duration by method, route pattern and status',
  [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
);
metricsRegistry.registerMetric(httpDuration as unknown as Metric);

/** Prometheus text at GET /metrics (no /api/v1 prefix). Expose it on an internal network only. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  @Public()
  @Get()
  @Header('Content-Type', metricsRegistry.contentType)
  @Header('Cache-Control', 'no-store')
  metrics(): Promise<string> {
    return metricsRegistry.metrics();
  }
}
