import { setImmediate as tick } from 'node:timers/promises';
import { RequestContext, RequestContextData } from './request-context';

const data = (requestId: string): RequestContextData => ({ requestId, ip: null, userAgent: null });

describe('RequestContext', () => {
  afterEach(() => expect(RequestContext.activeRuns()).toBe(0));

  it('is ambient inside run, across awaits, and gone after it', async () => {
    expect(RequestContext.current()).toBeUndefined();
    const seen = await RequestContext.run(data('a'), async () => {
      await tick();
      const first = RequestContext.requestId();
      await new Promise((r) => setTimeout(r, 1));
      return [first, RequestContext.requestId()];
    });
    expect(seen).toEqual(['a', 'a']);
    expect(RequestContext.current()).toBeUndefined();
  });

  it('keeps concurrent runs apart, and an inner run shadows the outer one until it settles', async () => {
    const order: string[] = [];
    const one = RequestContext.run(data('one'), async () => {
      await tick();
      order.push(`one:${RequestContext.requestId()}`);
      await RequestContext.run(data('inner'), async () => {
        await tick();
        order.push(`inner:${RequestContext.requestId()}`);
      });
      order.push(`one-again:${RequestContext.requestId()}`);
    });
    const two = RequestContext.run(data('two'), async () => {
      await tick();
      order.push(`two:${RequestContext.requestId()}`);
    });
    expect(RequestContext.activeRuns()).toBe(2);
    await Promise.all([one, two]);
    expect(order.sort()).toEqual(['inner:inner', 'one-again:one', 'one:one', 'two:two']);
  });

  it('stays enabled while any run is pending, and releases on rejection and on a synchronous throw', async () => {
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const slow = RequestContext.run(data('slow'), async () => {
      await gate;
      return RequestContext.requestId();
    });
    await expect(RequestContext.run(data('fails'), async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(() =>
      RequestContext.run(data('throws'), () => {
        throw new Error('sync');
      }),
    ).toThrow('sync');
    expect(RequestContext.run(data('sync'), () => RequestContext.requestId())).toBe('sync');
    // The slow run is still in flight: its context is still there for it.
    expect(RequestContext.activeRuns()).toBe(1);
    finish();
    await expect(slow).resolves.toBe('slow');
    await tick();
  });

  it('keeps the storage enabled until a thenable that is not a native promise settles', async () => {
    let settle!: (v: string) => void;
    const inner = new Promise<string>((r) => (settle = r));
    const thenable = { then: (ok: (v: string) => unknown, ko: (e: unknown) => unknown) => inner.then(ok, ko) };
    RequestContext.run(data('thenable'), () => thenable);
    expect(RequestContext.activeRuns()).toBe(1);
    settle('done');
    await inner;
    await tick();
  });

  it('carries a context on the request object without making it ambient', () => {
    const req = {};
    const ctx = data('on-request');
    RequestContext.attach(req, ctx);
    expect(RequestContext.of(req)).toBe(ctx);
    expect(RequestContext.of({})).toBeUndefined();
    expect(RequestContext.current()).toBeUndefined();
  });
});
