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
 */
export const LOCAL_ISSUER = 'urn:stockroom:local-issuer';
export const LOCAL_AUDIENCE = 'stockroom-api';
const ALG = 'ES256';

export interface LocalIssuer {
  sign: (claims: { tenantId: string; role: Role; subject?: string; expiresIn?: string }) => Promise<string>;
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
    sign: ({ tenantId, role, subject, expiresIn = '12h' }) =>
      new SignJWT({ [CLAIMS.tenant]: tenantId, [CLAIMS.role]: role, token_use: 'id' })
        .setProtectedHeader({ alg: ALG })
        .setSubject(subject ?? `${tenantId}-${role}`)
        .setIssuer(LOCAL_ISSUER)
        .setAudience(LOCAL_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(privateKey),
    verify: async (token) => (await jwtVerify(token, publicKey, { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE })).payload,
  };
};
