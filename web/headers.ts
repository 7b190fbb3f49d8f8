/**
 * The dashboard's security headers, declared once: the local server (bin/local/web.ts) sends them with every
 * file, and the stack's CloudFront response headers policy (lib/web.ts) is built from the same values.
 * The app loads only its own scripts and styles and talks only to its own origin's API, so the policy can be
 * strict: no inline script, no eval, no third-party origin, no framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  // The API; in AWS the Cognito hosted UI's token endpoint is added by the stack (lib/web.ts).
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const WEB_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};
