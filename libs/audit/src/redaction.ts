/**
 * The one redaction step every audit row goes through: secrets never reach `metadata`, whatever the
 * caller passes and at any depth; text columns are cleaned of control characters and capped.
 */

export const REDACTED = '[redacted]';
export const TRUNCATED = '[truncated]';

/** A key containing one of these words is a secret (`password`, `new_password`, `refreshToken`, `x-api-secret`, ...). */
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'tokens',
  'authorization',
  'cookie',
  'cookies',
  'otp',
  'totp',
  'credential',
  'credentials',
  'apikey',
  'privatekey',
]);
/** Keys that are secrets on their own (`code`, `key`), ... */
const SECRET_KEYS = new Set(['code', 'codes', 'key', 'keys', 'pin']);
/** ... or after one of these words (`two_factor_code`, `backup_codes`, `api_key`), but not `flag_key` or `country_code`. */
const SECRET_QUALIFIERS = new Set([
  'factor',
  'backup',
  'recovery',
  'verification',
  'reset',
  'auth',
  'login',
  'api',
  'private',
  'signing',
  'encryption',
  'access',
  'refresh',
  'session',
  'invitation',
]);

const MAX_DEPTH = 8;
const MAX_ARRAY = 100;
const MAX_KEYS = 100;
const MAX_STRING = 1000;
/** Compact JSON of the whole metadata object, after redaction. */
export const MAX_METADATA_BYTES = 16_384;

/** Is a metadata key a secret? Keys are compared as snake_case words, case-insensitively. */
export function isSecretKey(key: string): boolean {
  let known = secretKeyMemo.get(key);
  if (known === undefined) {
    known = secretKeyWords(key);
    // The keys an app writes are few and repeat; a bound keeps odd inputs from growing it.
    if (secretKeyMemo.size >= SECRET_KEY_MEMO_SIZE) secretKeyMemo.clear();
    secretKeyMemo.set(key, known);
  }
  return known;
}

const SECRET_KEY_MEMO_SIZE = 1000;
const secretKeyMemo = new Map<string, boolean>();

function secretKeyWords(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  if (words.length === 0) return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  const last = words[words.length - 1];
  if (!SECRET_KEYS.has(last)) return false;
  return words.length === 1 || SECRET_QUALIFIERS.has(words[words.length - 2]);
}

/** String values that are credentials whatever their key: bearer headers and JWTs. */
function looksLikeCredential(value: string): boolean {
  return /^\s*(bearer|basic)\s+\S/i.test(value) || /^eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*$/.test(value.trim());
}

// eslint-disable-next-line no-control-regex
const NUL_OR_SURROGATE = /[\u0000\ud800-\udfff]/;

/** NUL (refused by PostgreSQL text and jsonb) out, lone surrogates replaced, length capped. */
export function cleanString(value: string, max = MAX_STRING): string {
  if (value.length <= max && !NUL_OR_SURROGATE.test(value)) return value; // the usual case: nothing to do
  // eslint-disable-next-line no-control-regex
  let s = value.replace(/\u0000/g, '').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  if (s.length > max) s = s.slice(0, max);
  // Do not leave half a surrogate pair at the cut.
  if (/[\ud800-\udbff]$/.test(s)) s = s.slice(0, -1);
  return s;
}

function redactValue(value: unknown, depth: number): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return looksLikeCredential(value) ? REDACTED : cleanString(value);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined; // functions, symbols, undefined: dropped, as JSON.stringify does
  }
  if (depth >= MAX_DEPTH) return TRUNCATED;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) {
    return value.slice(0, MAX_ARRAY).map((v) => {
      const r = redactValue(v, depth + 1);
      return r === undefined ? null : r;
    });
  }
  if (ArrayBuffer.isView(value)) return '[binary]';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return redactValue((toJSON as () => unknown).call(value), depth + 1);
  return redactObject(value as Record<string, unknown>, depth);
}

function redactObject(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  const entries: [string, unknown][] = [];
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length && i < MAX_KEYS; i++) {
    const key = keys[i];
    const cleanKey = cleanString(key, 100);
    if (isSecretKey(cleanKey)) {
      entries.push([cleanKey, REDACTED]);
      continue;
    }
    const v = redactValue(value[key], depth + 1);
    if (v !== undefined) entries.push([cleanKey, v]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(entries);
}

/**
 * The metadata of an audit row: secrets masked at any depth (`"[redacted]"`), only JSON values, depth,
 * sizes and strings capped, NUL characters removed. Anything that is not a plain object becomes `{}`.
 */
export function redactMetadata(metadata: unknown): Record<string, unknown> {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return {};
  const out = redactObject(metadata as Record<string, unknown>, 0);
  const json = JSON.stringify(out);
  // A UTF-16 unit is at most 3 bytes of UTF-8: counting bytes is needed only near the cap.
  if (json.length * 3 > MAX_METADATA_BYTES && Buffer.byteLength(json, 'utf8') > MAX_METADATA_BYTES) return { truncated: true };
  return out;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g;

/** A one-line text column (user agent, email, ids): control characters stripped, capped. */
export function cleanText(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null;
  const s = cleanString(CONTROL.test(value) ? value.replace(CONTROL_ALL, '') : value, max);
  return s.length ? s : null;
}
