import { escapeHtml, linkTo, renderEmailVerification, renderInvitation, renderPasswordReset, singleLine } from './mail.templates';

const APP = 'https://app.example.test';

describe('mail templates', () => {
  it('links are exactly {APP_URL}/{page}?token=...', () => {
    expect(linkTo(APP, 'accept-invite', 'abc_-1')).toBe('https://app.example.test/accept-invite?token=abc_-1');
    expect(renderEmailVerification(APP, { to: 'a@b.c', fullName: 'A', token: 'T1', validForMs: 86_400_000 }).text).toContain(
      'https://app.example.test/verify-email?token=T1',
    );
    expect(renderPasswordReset(APP, { to: 'a@b.c', fullName: 'A', token: 'T2', validForMs: 3_600_000 }).text).toContain(
      'https://app.example.test/reset-password?token=T2',
    );
  });

  it('escapes every interpolated value in HTML and keeps headers on one line', () => {
    const email = renderInvitation(APP, {
      to: 'x@y.z',
      orgName: '<script>alert("o")</script> & Co',
      inviterName: 'Eve\r\nBcc: victim@example.com',
      roleName: 'Admin',
      token: 'tok',
      expiresAt: new Date('2030-01-02T03:04:05Z'),
    });
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(&quot;o&quot;)&lt;/script&gt; &amp; Co');
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject).toBe('Eve Bcc: victim@example.com invited you to join <script>alert("o")</script> & Co');
    expect(email.text).toContain('https://app.example.test/accept-invite?token=tok');
    expect(email.text).toContain('2030-01-02 03:04 UTC');
    expect(email.kind).toBe('invitation');
  });

  it('helpers', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(singleLine('a\nb\tc', 200)).toBe('a b c');
    expect(singleLine('x'.repeat(300), 10)).toHaveLength(10);
  });
});
