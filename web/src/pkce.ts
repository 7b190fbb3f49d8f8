/** PKCE (RFC 7636) for the hosted UI's code flow (auth.ts): a random verifier and its S256 challenge, base64url without padding. */
export const base64url = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** 32 random bytes: a 43-character verifier (RFC 7636 asks for 43 to 128). */
export const randomText = (bytes = 32): string => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

export const challengeOf = async (verifier: string): Promise<string> => base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
