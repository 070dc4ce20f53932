import "server-only";
import {
  createRemoteJWKSet,
  errors,
  jwtVerify,
  SignJWT,
  type JWTHeaderParameters,
  type JWTPayload,
  type FlattenedJWSInput,
  type CryptoKey,
  type KeyObject,
} from "jose";

/**
 * Access-token verification for Supabase Auth (HS256 project secret or the project's JWKS)
 * and for the embedded local sign-in, which mints the same shape of token with HS256.
 * Every token is checked for signature, an explicit algorithm allowlist, `exp` and `aud`.
 */

export type AuthFailureReason =
  | "expired"
  | "bad_signature"
  | "bad_audience"
  | "malformed"
  | "bad_algorithm"
  | "missing_claims";

export class AuthError extends Error {
  constructor(readonly reason: AuthFailureReason, message: string = `token rejected: ${reason}`, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthError";
  }
}

export interface TokenClaims {
  /** The user id (auth.users.id), always a UUID. */
  sub: string;
  email?: string;
  iat: number;
  exp: number;
  /** Supabase's `session_id` claim; the local sign-in sets it too. */
  sessionId?: string;
}

export interface TokenVerifier {
  /** Resolves the claims of a valid token; rejects with AuthError for any token problem. */
  verify(token: string): Promise<TokenClaims>;
}

export interface TokenVerifierOptions {
  /** Shared HS256 secret (Supabase's JWT secret, or the local signing secret). */
  hs256Secret?: string;
  /** During a rotation: HS256 tokens signed with the previous secret are still accepted until they expire. */
  hs256PreviousSecret?: string;
  /** A JWKS endpoint whose RS256/ES256 keys sign tokens (Supabase asymmetric signing keys). */
  jwksUrl?: string;
  /** Default "authenticated", the audience Supabase puts in user access tokens. */
  audience?: string;
  issuer?: string;
  /** Allowed clock skew in seconds for exp/nbf (default 10). */
  clockToleranceSeconds?: number;
  /** JWKS fetch timeout in ms (default 2000). */
  jwksTimeoutMs?: number;
}

export const TOKEN_AUDIENCE = "authenticated";
export const LOCAL_TOKEN_ISSUER = "litstatus-local";

const HMAC_ALGORITHMS = ["HS256"] as const;
const ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Three base64url segments; anything else is refused before jose parses it. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_TOKEN_LENGTH = 8192;

const encoder = new TextEncoder();

type KeyResolver = (header: JWTHeaderParameters, input: FlattenedJWSInput) => Promise<CryptoKey | KeyObject | Uint8Array>;

function toAuthError(error: unknown): AuthError | undefined {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) return new AuthError("expired", undefined, { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return new AuthError("missing_claims", `token lacks the "${error.claim}" claim`, { cause: error });
    // A token minted for another audience or by another issuer is meant for someone else.
    if (error.claim === "aud" || error.claim === "iss") return new AuthError("bad_audience", undefined, { cause: error });
    if (error.claim === "nbf" || error.claim === "iat") return new AuthError("expired", "token is outside its validity window", { cause: error });
    return new AuthError("missing_claims", undefined, { cause: error });
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new AuthError("bad_algorithm", undefined, { cause: error });
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return new AuthError("bad_signature", undefined, { cause: error });
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new AuthError("malformed", undefined, { cause: error });
  }
  // JWKS fetch failures (timeout, network, a broken key set) are not the token's fault: rethrown.
  return undefined;
}

function claimsFrom(payload: JWTPayload): TokenClaims {
  const { sub, iat, exp } = payload;
  if (typeof sub !== "string" || !UUID.test(sub)) throw new AuthError("missing_claims", "token has no user id");
  if (typeof iat !== "number" || typeof exp !== "number") throw new AuthError("missing_claims", "token lacks iat/exp");
  const email = typeof payload.email === "string" && payload.email !== "" ? payload.email : undefined;
  const sessionId = typeof payload.session_id === "string" && payload.session_id !== "" ? payload.session_id : undefined;
  return { sub: sub.toLowerCase(), iat, exp, ...(email ? { email } : {}), ...(sessionId ? { sessionId } : {}) };
}

/**
 * Builds a verifier. With only a secret it accepts HS256; with only a JWKS URL, RS256/ES256;
 * with both, the token's `alg` picks the key source, so an HS256 token is never checked
 * against a public key and an RS256 token never against the shared secret.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { hs256Secret, jwksUrl, audience = TOKEN_AUDIENCE, issuer } = options;
  if (!hs256Secret && !jwksUrl) throw new Error("createTokenVerifier needs hs256Secret or jwksUrl");
  const secretKey = hs256Secret ? encoder.encode(hs256Secret) : undefined;
  const jwks = jwksUrl
    ? createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: options.jwksTimeoutMs ?? 2000 })
    : undefined;
  const algorithms: string[] = [...(secretKey ? HMAC_ALGORITHMS : []), ...(jwks ? ASYMMETRIC_ALGORITHMS : [])];

  const resolveKey: KeyResolver = async (header, input) => {
    if (header.alg === "HS256" && secretKey) return secretKey;
    if (jwks && header.alg !== "HS256") return jwks(header, input);
    throw new AuthError("bad_algorithm");
  };
  const previousKey = secretKey && options.hs256PreviousSecret ? encoder.encode(options.hs256PreviousSecret) : undefined;
  const resolvePreviousKey: KeyResolver = async (header) => {
    if (header.alg === "HS256" && previousKey) return previousKey;
    throw new AuthError("bad_signature");
  };
  const check = (token: string, key: KeyResolver) =>
    jwtVerify(token, key, {
      algorithms,
      audience,
      ...(issuer ? { issuer } : {}),
      requiredClaims: ["exp", "iat", "sub"],
      clockTolerance: options.clockToleranceSeconds ?? 10,
    });

  return {
    async verify(token) {
      if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
        throw new AuthError("malformed");
      }
      try {
        return claimsFrom((await check(token, resolveKey)).payload);
      } catch (error) {
        const failure = toAuthError(error);
        if (failure?.reason !== "bad_signature" || !previousKey) throw failure ?? error;
        try {
          return claimsFrom((await check(token, resolvePreviousKey)).payload);
        } catch (previousError) {
          throw toAuthError(previousError) ?? previousError;
        }
      }
    },
  };
}

export interface SessionTokenSubject {
  sub: string;
  email: string | null;
  sessionId?: string;
}

/** Mints a session token for the embedded sign-in, shaped like a Supabase access token. */
export async function signSessionToken(subject: SessionTokenSubject, secret: string, ttlSeconds: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    role: "authenticated",
    ...(subject.email ? { email: subject.email } : {}),
    ...(subject.sessionId ? { session_id: subject.sessionId } : {}),
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(subject.sub)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuer(LOCAL_TOKEN_ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(encoder.encode(secret));
}
