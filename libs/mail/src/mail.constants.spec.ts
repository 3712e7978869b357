import { retryDelayMs } from './mail.constants';

describe('retryDelayMs', () => {
  it('doubles from the base after each failed attempt (BullMQ exponential backoff)', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, 2000))).toEqual([2000, 4000, 8000, 16000]);
    expect(retryDelayMs(0, 2000)).toBe(2000);
  });
});
