import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CLAIMS, type Role } from '../../functions/identity/roles';

/**
 * The local stand-in for the Cognito user pool: signs ES256 tokens carrying
 * the same claims (`custom:tenant_id`, `custom:role`, `sub`), and verifies
 * them the way API Gateway's JWT authorizer does (signature, issuer,
 * audience, expiry). The key pair is kept under .data/ so tokens printed
 * by `npm run token` stay valid across restarts.
 *
 * Every token expires: the issuer signs at most MAX_TOKEN_LIFETIME (24 h,
 * the longest ID-token validity Cognito allows), and verification refuses a
 * token without `exp` or `iat`, or issued more than that long ago, so a
 * token signed with this key by anything else still cannot live forever.
 */
export const LOCAL_ISSUER = 'urn:stockroom:local-issuer';
export const LOCAL_AUDIENCE = 'stockroom-api';
const ALG = 'ES256';
export const DEFAULT_TOKEN_LIFETIME = '12h';
export const MAX_TOKEN_LIFETIME = '24h';
const MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 60 * 60, d: 24 * 60 * 60 };

/** A lifetime such as `30m`, `12h` or `1d` refused: what to say. */
export class LifetimeRefused extends Error {
  override name = 'LifetimeRefused';
}

/**
 * Seconds in a lifetime written `<integer><s|m|h|d>`, optionally negative
 * (tests sign already-expired tokens with `-1m`). Longer than
 * MAX_TOKEN_LIFETIME, or not of that form, is refused.
 */
export const lifetimeSeconds = (lifetime: string): number => {
  const parsed = /^(-?)(\d{1,9})([smhd])$/.exec(lifetime.trim());
  const [, sign, amount, unit] = parsed ?? [];
  const perUnit = unit === undefined ? undefined : UNIT_SECONDS[unit];
  if (amount === undefined || perUnit === undefined) {
    throw new LifetimeRefused(`a token lifetime is a whole number of s, m, h or d, such as 30m, 12h or 1d (got '${lifetime}')`);
  }
  const seconds = Number(amount) * perUnit * (sign === '-' ? -1 : 1);
  if (seconds > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new LifetimeRefused(`a local token lives at most ${MAX_TOKEN_LIFETIME} (got '${lifetime}'); sign a new one when it expires`);
  }
  return seconds;
};

/** What a local token says: as a Cognito ID token of the user pool would (lib/identity.ts). */
export interface TokenClaims {
  tenantId: string;
  role: Role;
  subject?: string;
  email?: string;
  /** A warehouse-scoped user's warehouses (CLAIMS.warehouses); absent: every warehouse. */
  warehouseIds?: readonly string[];
  expiresIn?: string;
}

export interface LocalIssuer {
  sign: (claims: TokenClaims) => Promise<string>;
  verify: (token: string) => Promise<JWTPayload>;
}

/** The saved key pair: a private EC JWK as exportJWK wrote it (other members are kept as they are). */
const savedKey = z.looseObject({ kty: z.literal('EC'), crv: z.string(), x: z.string(), y: z.string(), d: z.string() });

const loadOrCreateKey = async (file: string | undefined): Promise<JWK> => {
  if (file && existsSync(file)) return savedKey.parse(JSON.parse(readFileSync(file, 'utf8')));
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  if (file) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  }
  return jwk;
};

export const createLocalIssuer = async (keyFile?: string): Promise<LocalIssuer> => {
  const jwk = await loadOrCreateKey(keyFile);
  const privateKey = await importJWK(jwk, ALG);
  const { d: _secret, ...publicJwk } = jwk;
  const publicKey = await importJWK(publicJwk, ALG);
  return {
    sign: async ({ tenantId, role, subject, email, warehouseIds, expiresIn = DEFAULT_TOKEN_LIFETIME }) => {
      const now = Math.floor(Date.now() / 1000);
      const expiresAt = now + lifetimeSeconds(expiresIn);
      return new SignJWT({
        [CLAIMS.tenant]: tenantId,
        [CLAIMS.role]: role,
        token_use: 'id',
        ...(email === undefined ? {} : { [CLAIMS.email]: email }),
        ...(warehouseIds === undefined ? {} : { [CLAIMS.warehouses]: warehouseIds.join(',') }),
      })
        .setProtectedHeader({ alg: ALG })
        .setSubject(subject ?? `${tenantId}-${role}`)
        .setIssuer(LOCAL_ISSUER)
        .setAudience(LOCAL_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(expiresAt)
        .sign(privateKey);
    },
    verify: async (token) =>
      (
        await jwtVerify(token, publicKey, {
          issuer: LOCAL_ISSUER,
          audience: LOCAL_AUDIENCE,
          algorithms: [ALG],
          requiredClaims: ['exp', 'iat'],
          maxTokenAge: MAX_TOKEN_LIFETIME,
        })
      ).payload,
  };
};
