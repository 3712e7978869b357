import { effectiveStatus } from './invitation.entity';

describe('effectiveStatus', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  it('a pending invitation is expired from its expires_at on', () => {
    expect(effectiveStatus({ status: 'pending', expiresAt: new Date(now.getTime() + 1) }, now)).toBe('pending');
    expect(effectiveStatus({ status: 'pending', expiresAt: now }, now)).toBe('expired');
  });
  it('other statuses are as stored', () => {
    for (const status of ['accepted', 'revoked', 'expired'] as const) {
      expect(effectiveStatus({ status, expiresAt: new Date(now.getTime() + 1000) }, now)).toBe(status);
    }
  });
});
