import { challengeOf, randomText } from './pkce';
import { session } from './session';

/**
 * Signing in in AWS: the Cognito hosted UI with the authorization code grant and PKCE (RFC 7636). The stack deploys
 * /config.json beside the app (lib/web.ts) naming the API, the hosted UI's domain and the dashboard's public app
 * client; locally there is none, and the dev token in the fragment signs in instead (session.ts).
 *
 * The verifier and the state live in sessionStorage for the one round trip; the code is exchanged at the hosted
 * UI's token endpoint for an ID token, which is what the API's JWT authorizer takes.
 */
export interface DashboardConfig {
  api_url: string;
  cognito_domain: string;
  client_id: string;
  redirect_uri: string;
}

const VERIFIER = 'stockroom.pkce.verifier';
const STATE = 'stockroom.pkce.state';

const isConfig = (value: unknown): value is DashboardConfig =>
  typeof value === 'object' &&
  value !== null &&
  ['api_url', 'cognito_domain', 'client_id', 'redirect_uri'].every((name) => typeof (value as Record<string, unknown>)[name] === 'string');

/** /config.json if the app is deployed (AWS), undefined under npm start. */
export const loadConfig = async (): Promise<DashboardConfig | undefined> => {
  try {
    const response = await fetch('/config.json', { headers: { accept: 'application/json' } });
    if (!response.ok || !(response.headers.get('content-type') ?? '').includes('json')) return undefined;
    const config: unknown = await response.json();
    return isConfig(config) ? config : undefined;
  } catch {
    return undefined;
  }
};


/** Off to the hosted UI, with a fresh verifier and state kept for the way back. */
export const signInWithCognito = async (config: DashboardConfig): Promise<void> => {
  const verifier = randomText();
  const state = randomText(16);
  sessionStorage.setItem(VERIFIER, verifier);
  sessionStorage.setItem(STATE, state);
  const url = new URL('/oauth2/authorize', config.cognito_domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.client_id,
    redirect_uri: config.redirect_uri,
    scope: 'openid email profile',
    state,
    code_challenge_method: 'S256',
    code_challenge: await challengeOf(verifier),
  }).toString();
  window.location.assign(url.toString());
};

/**
 * Back from the hosted UI with ?code=&state=: the code for an ID token, the query removed from the address bar.
 * A state that is not the one this tab sent is refused (a forged or replayed redirect).
 */
export const completeCognitoSignIn = async (config: DashboardConfig): Promise<string | undefined> => {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('code');
  if (!code) return undefined;
  const state = params.get('state');
  const verifier = sessionStorage.getItem(VERIFIER);
  const expected = sessionStorage.getItem(STATE);
  sessionStorage.removeItem(VERIFIER);
  sessionStorage.removeItem(STATE);
  window.history.replaceState(null, '', window.location.pathname);
  if (!verifier || !expected || state !== expected) return 'The sign-in could not be completed (its state did not match): sign in again.';
  const response = await fetch(new URL('/oauth2/token', config.cognito_domain), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.client_id, code, redirect_uri: config.redirect_uri, code_verifier: verifier }).toString(),
  });
  const tokens: unknown = await response.json().catch(() => undefined);
  const idToken = typeof tokens === 'object' && tokens !== null ? (tokens as Record<string, unknown>).id_token : undefined;
  if (!response.ok || typeof idToken !== 'string') return 'The sign-in was refused by the identity provider: sign in again.';
  session.signIn(idToken);
  return undefined;
};
