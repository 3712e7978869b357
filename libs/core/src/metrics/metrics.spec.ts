import { Registry } from 'prom-client';
import type { Metric } from 'prom-client';
import { RequestDurationHistogram } from './metrics';

describe('RequestDurationHistogram', () => {
  function fresh() {
    const h = new RequestDurationHistogram('t_http_seconds', 'test histogram', [0.01, 0.1, 1]);
    const registry = new Registry();
    registry.registerMetric(h as unknown as Metric);
    return { h, registry };
  }

  it('counts observations into cumulative buckets per (method, route, status), with sum and count', async () => {
    const { h } = fresh();
    for (const s of [0.005, 0.01, 0.05, 0.5, 3]) h.observe('GET', '/a/:id', 200, s);
    h.observe('POST', '/a/:id', 400, 0.02);
    const { values, type } = await h.get();
    expect(type).toBe('histogram');
    const of = (name: string, method: string, le?: string | number) =>
      values.find(
        (v) => v.metricName === `t_http_seconds_${name}` && v.labels.method === method && (le === undefined || v.labels.le === le),
      )?.value;
    // le is inclusive: 0.01 falls in the 0.01 bucket
    expect([of('bucket', 'GET', 0.01), of('bucket', 'GET', 0.1), of('bucket', 'GET', 1), of('bucket', 'GET', '+Inf')]).toEqual([
      2, 3, 4, 5,
    ]);
    expect(of('count', 'GET')).toBe(5);
    expect(of('sum', 'GET')).toBeCloseTo(3.565);
    expect([of('bucket', 'POST', 0.01), of('bucket', 'POST', 0.1), of('count', 'POST')]).toEqual([0, 1, 1]);
    expect(values.find((v) => v.labels.method === 'POST')?.labels).toMatchObject({ route: '/a/:id', status: '400' });
  });

  it("renders the Prometheus text format through prom-client's registry, and resets", async () => {
    const { h, registry } = fresh();
    h.observe('GET', '/health/live', 200, 0.0004);
    const text = await registry.metrics();
    expect(text).toContain('# HELP t_http_seconds test histogram\n# TYPE t_http_seconds histogram\n');
    expect(text).toContain('t_http_seconds_bucket{le="0.01",method="GET",route="/health/live",status="200"} 1\n');
    expect(text).toContain('t_http_seconds_bucket{le="+Inf",method="GET",route="/health/live",status="200"} 1\n');
    expect(text).toContain('t_http_seconds_sum{method="GET",route="/health/live",status="200"} 0.0004\n');
    expect(text).toMatch(/t_http_seconds_count\{method="GET",route="\/health\/live",status="200"\} 1$/m);
    registry.resetMetrics();
    expect((await h.get()).values).toEqual([]);
  });
});
