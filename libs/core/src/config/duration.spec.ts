import { parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['15m', 900_000],
    ['30d', 2_592_000_000],
    ['7d', 604_800_000],
    ['2s', 2_000],
    ['1h', 3_600_000],
    ['500ms', 500],
    ['10', 10_000], // a bare number is seconds
    [' 15m ', 900_000],
  ])('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', ' ', 'm', 'abc', '15 m', '15min', '15M', '1.5h', '-5m', '+5m', '0', '0s', '0ms', '15m30s', '1e3', '0x10', '1234567890s'])(
    'refuses %j',
    (input) => {
      expect(parseDuration(input)).toBeNull();
    },
  );
});
