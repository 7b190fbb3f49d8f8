import { computed, signal } from '@preact/signals';

/**
 * Who is signed in. Locally a dev token arrives in the URL fragment (`/#token=<jwt>`, printed by `npm start`);
 * in AWS the Cognito hosted UI's code flow with PKCE hands one back (auth.ts). The token is kept in
 * sessionStorage (this tab only), and the fragment is removed from the address bar at once so it is neither
 * bookmarked nor sent anywhere. The token's claims say who and which role, for display and for hiding what the
 * role cannot do; the API decides, whatever the page shows.
 */
const STORAGE_KEY = 'stockroom.token';

export interface Claims {
  tenantId: string;
  role: string;
  subject: string;
  email?: string;
  expiresAt?: number;
}

const decodeClaims = (token: string | null): Claims | undefined => {
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const json: unknown = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    if (typeof json !== 'object' || json === null) return undefined;
    const claims = json as Record<string, unknown>;
    const tenantId = claims['custom:tenant_id'];
    const role = claims['custom:role'];
    const subject = claims.sub;
    if (typeof tenantId !== 'string' || typeof role !== 'string' || typeof subject !== 'string') return undefined;
    return {
      tenantId,
      role,
      subject,
      ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
      ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp * 1000 } : {}),
    };
  } catch {
    return undefined;
  }
};

const fromFragment = (): string | null => {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match?.[1]) return null;
  const token = decodeURIComponent(match[1]);
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return token;
};

const initial = ((): string | null => {
  const fresh = fromFragment();
  if (fresh) sessionStorage.setItem(STORAGE_KEY, fresh);
  return fresh ?? sessionStorage.getItem(STORAGE_KEY);
})();

const token = signal<string | null>(initial);
/** Why the session ended, shown on the sign-in page. */
const ended = signal<string | undefined>(undefined);

export const session = {
  token,
  ended,
  claims: computed(() => decodeClaims(token.value)),
  signIn(next: string): void {
    sessionStorage.setItem(STORAGE_KEY, next);
    ended.value = undefined;
    token.value = next;
  },
  expire(): void {
    sessionStorage.removeItem(STORAGE_KEY);
    ended.value = 'Your session ended (the token expired or your access changed). Sign in again.';
    token.value = null;
  },
  signOut(): void {
    sessionStorage.removeItem(STORAGE_KEY);
    ended.value = undefined;
    token.value = null;
  },
};

/** The permissions of the signed-in role, from GET /api/roles (the one matrix): filled in by the app shell. */
export const permissions = signal<ReadonlySet<string>>(new Set());
export const can = (permission: string): boolean => permissions.value.has(permission);
