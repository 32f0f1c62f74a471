// One masking function for every URL Warden shows or logs: config print,
// logs, doctor, errors, /readyz. A URL keeps its scheme, host and path so a
// person can still tell which server is meant; what authenticates is hidden:
// userinfo, secret-looking query parameters, and tokens that travel in a path
// (Telegram's /bot<token>/, Slack and Discord webhook paths).

export const masked = '***';

const secretParam =
  /^(?:.*[-_.]?(?:token|secret|password|passwd|pwd|signature|sig|key|auth|authorization|credential|credentials|session|sessionid|code|hash|hmac|jwt))$|^(?:apikey|api_key|access_key|private_key|sas|x-amz-signature|x-amz-credential|x-goog-signature)$/i;

/** Path segments that are credentials in well-known services. */
function maskPath(pathname: string, host: string): string {
  let path = pathname.replace(/\/bot[^/]+/g, `/bot${masked}`);
  if (/(^|\.)slack\.com$/i.test(host)) {
    path = path.replace(/^(\/services)\/.*$/, `$1/${masked}`);
  }
  if (/(^|\.)discord(app)?\.com$/i.test(host)) {
    path = path.replace(/^(\/api\/webhooks\/[^/]+)\/[^/]+/, `$1/${masked}`);
  }
  return path;
}

/**
 * The URL with its credentials replaced by `***`: userinfo, query parameters
 * whose name says token/key/secret/password/signature, and path tokens.
 * A string that does not parse as a URL goes through {@link maskUrlsInText}.
 */
export function maskUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return maskUrlsInText(raw);
  }
  let changed = false;
  if (u.username || u.password) {
    u.username = masked;
    u.password = '';
    changed = true;
  }
  for (const name of [...new Set(u.searchParams.keys())]) {
    if (secretParam.test(name)) {
      u.searchParams.set(name, masked);
      changed = true;
    }
  }
  if (u.hash.includes('=')) {
    const frag = new URLSearchParams(u.hash.slice(1));
    for (const name of [...new Set(frag.keys())]) {
      if (secretParam.test(name)) {
        frag.set(name, masked);
        changed = true;
      }
    }
    if (changed) u.hash = frag.toString();
  }
  const path = maskPath(u.pathname, u.hostname);
  if (path !== u.pathname) {
    u.pathname = path;
    changed = true;
  }
  // A URL with nothing to hide is shown exactly as it was written.
  if (!changed) return raw;
  // URL encodes the asterisks of the placeholder; show them as written.
  return u.toString().replaceAll('%2A%2A%2A', masked);
}

// scheme://anything-up-to-whitespace-or-quote; the URL parser decides the rest.
const urlInText = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** Every URL inside a message masked with {@link maskUrl}; the rest of the text unchanged. */
export function maskUrlsInText(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(urlInText, (m) => {
    // Trailing punctuation belongs to the sentence, not the URL.
    const tail = /[).,;:!?\]]+$/.exec(m)?.[0] ?? '';
    const url = tail ? m.slice(0, -tail.length) : m;
    try {
      new URL(url);
    } catch {
      // Not parseable: hide anything between :// and an @, the usual userinfo place.
      return url.replace(/:\/\/[^/@]*@/, `://${masked}@`) + tail;
    }
    return maskUrl(url) + tail;
  });
}

/**
 * A copy of a value with every string in it passed through {@link maskUrlsInText}
 * (objects and arrays walked to a small depth). For logs and API answers.
 */
export function maskDeep<T>(value: T, depth = 6): T {
  if (typeof value === 'string') return maskUrlsInText(value) as T;
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => maskDeep(v, depth - 1)) as T;
  if (value instanceof Error) return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v, depth - 1);
  return out as T;
}

/** A host:port or address a public answer should not reveal ("where"), kept as "which". */
export function hideLocations(text: string): string {
  return text
    .replace(urlInText, '[url]')
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, '[address]')
    .replace(/\[[0-9a-f:]+\](?::\d+)?/gi, '[address]')
    .replace(/\b[a-z0-9-]+(?:\.[a-z0-9-]+)+:\d{2,5}\b/gi, '[address]');
}
