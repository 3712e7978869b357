import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@saasready/core';
import { MailKind } from './mail.constants';

/** A rendered email, ready for MailService.enqueue. */
export interface OutgoingEmail {
  kind: MailKind;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** The application pages that email links open (API.md "Running it"); each posts the token to the API. */
export const LinkPage = {
  AcceptInvite: 'accept-invite',
  ResetPassword: 'reset-password',
  VerifyEmail: 'verify-email',
} as const;
export type LinkPage = (typeof LinkPage)[keyof typeof LinkPage];

export interface InvitationEmailInput {
  to: string;
  orgName: string;
  inviterName: string;
  roleName: string;
  token: string;
  expiresAt: Date;
}

export interface AccountEmailInput {
  to: string;
  fullName: string;
  token: string;
  /** How long the link is valid, for the wording ("24 hours"). */
  validForMs: number;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** A header-safe single line: no control characters (CR/LF would inject headers), at most `max` characters. */
export function singleLine(value: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** `{APP_URL}/{page}?token=...` */
export function linkTo(appUrl: string, page: LinkPage, token: string): string {
  return `${appUrl}/${page}?token=${encodeURIComponent(token)}`;
}

function duration(ms: number): string {
  const hours = Math.round(ms / 3_600_000);
  if (hours >= 48 && hours % 24 === 0) return `${hours / 24} days`;
  if (hours >= 1) return hours === 1 ? '1 hour' : `${hours} hours`;
  const minutes = Math.max(1, Math.round(ms / 60_000));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A minimal HTML body: paragraphs of (already escaped) HTML, one call-to-action button, the raw link. */
function layout(title: string, paragraphs: string[], action: { label: string; url: string }, footer: string): string {
  const url = escapeHtml(action.url);
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(title)}</title></head>`,
    '<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;line-height:1.5;color:#1f2328;max-width:560px;margin:0 auto;padding:24px">',
    ...paragraphs.map((p) => `<p>${p}</p>`),
    `<p><a href="${url}" style="display:inline-block;padding:10px 18px;background:#1f6feb;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(action.label)}</a></p>`,
    `<p style="font-size:13px;color:#57606a">If the button does not work, open this link:<br><a href="${url}">${url}</a></p>`,
    `<p style="font-size:13px;color:#57606a">${footer}</p>`,
    '</body></html>',
  ].join('\n');
}

export function renderInvitation(appUrl: string, input: InvitationEmailInput): OutgoingEmail {
  const link = linkTo(appUrl, LinkPage.AcceptInvite, input.token);
  const org = singleLine(input.orgName);
  const inviter = singleLine(input.inviterName);
  const role = singleLine(input.roleName, 64);
  return {
    kind: MailKind.Invitation,
    to: input.to,
    subject: singleLine(`${inviter} invited you to join ${org}`),
    text: [
      `Hello,`,
      ``,
      `${inviter} invited you to join ${org} as ${role}.`,
      ``,
      `Accept the invitation: ${link}`,
      ``,
      `The invitation expires on ${utc(input.expiresAt)}. If you did not expect it, ignore this email.`,
    ].join('\n'),
    html: layout(
      `Invitation to ${org}`,
      ['Hello,', `${escapeHtml(inviter)} invited you to join <strong>${escapeHtml(org)}</strong> as ${escapeHtml(role)}.`],
      { label: 'Accept the invitation', url: link },
      `The invitation expires on ${escapeHtml(utc(input.expiresAt))}. If you did not expect it, ignore this email.`,
    ),
  };
}

export function renderEmailVerification(appUrl: string, input: AccountEmailInput): OutgoingEmail {
  const link = linkTo(appUrl, LinkPage.VerifyEmail, input.token);
  const name = singleLine(input.fullName);
  return {
    kind: MailKind.EmailVerification,
    to: input.to,
    subject: 'Confirm your email address',
    text: [
      `Hello ${name},`,
      ``,
      `Confirm your email address: ${link}`,
      ``,
      `The link is valid for ${duration(input.validForMs)} and works once. If you did not create an account, ignore this email.`,
    ].join('\n'),
    html: layout(
      'Confirm your email address',
      [`Hello ${escapeHtml(name)},`, 'Please confirm your email address.'],
      { label: 'Confirm my email', url: link },
      `The link is valid for ${duration(input.validForMs)} and works once. If you did not create an account, ignore this email.`,
    ),
  };
}

export function renderPasswordReset(appUrl: string, input: AccountEmailInput): OutgoingEmail {
  const link = linkTo(appUrl, LinkPage.ResetPassword, input.token);
  const name = singleLine(input.fullName);
  return {
    kind: MailKind.PasswordReset,
    to: input.to,
    subject: 'Reset your password',
    text: [
      `Hello ${name},`,
      ``,
      `Someone (hopefully you) asked to reset your password. Choose a new one here: ${link}`,
      ``,
      `The link is valid for ${duration(input.validForMs)} and works once; resetting signs you out everywhere.`,
      `If you did not ask for this, ignore this email: your password stays as it is.`,
    ].join('\n'),
    html: layout(
      'Reset your password',
      [`Hello ${escapeHtml(name)},`, 'Someone (hopefully you) asked to reset your password.'],
      { label: 'Choose a new password', url: link },
      `The link is valid for ${duration(input.validForMs)} and works once; resetting signs you out everywhere. ` +
        'If you did not ask for this, ignore this email: your password stays as it is.',
    ),
  };
}

/** The email templates with APP_URL bound. Plain text and HTML (every interpolated value escaped). */
@Injectable()
export class MailTemplates {
  private readonly appUrl: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.appUrl = config.appUrl;
  }

  invitation(input: InvitationEmailInput): OutgoingEmail {
    return renderInvitation(this.appUrl, input);
  }

  emailVerification(input: AccountEmailInput): OutgoingEmail {
    return renderEmailVerification(this.appUrl, input);
  }

  passwordReset(input: AccountEmailInput): OutgoingEmail {
    return renderPasswordReset(this.appUrl, input);
  }
}
