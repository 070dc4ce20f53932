import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthError, createTokenVerifier, LOCAL_TOKEN_ISSUER, signSessionToken, type AuthFailureReason } from "./tokens";

const SECRET = "a-test-secret-that-is-long-enough-for-hs256!";
const USER_ID = "6f1c1c9e-2f7c-4a51-9d3e-2b0f5e4a7c11";
const enc = new TextEncoder();
const now = () => Math.floor(Date.now() / 1000);

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

async function hs256(claims: Record<string, unknown>, secret = SECRET, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT", ...header })
    .sign(enc.encode(secret));
}

function standardClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: USER_ID, aud: "authenticated", iat: now(), exp: now() + 3600, email: "a@example.com", ...overrides };
}

async function expectReason(promise: Promise<unknown>, reason: AuthFailureReason): Promise<void> {
  const error = await promise.then(
    () => new Error("expected the token to be rejected"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  expect((error as AuthError).reason).toBe(reason);
}

describe("HS256 verifier", () => {
  const verifier = createTokenVerifier({ hs256Secret: SECRET });

  it("accepts a valid token and returns its claims", async () => {
    const iat = now();
    const token = await hs256(standardClaims({ iat, exp: iat + 60, session_id: "s-1" }));
    await expect(verifier.verify(token)).resolves.toEqual({
      sub: USER_ID,
      email: "a@example.com",
      iat,
      exp: iat + 60,
      sessionId: "s-1",
    });
  });

  it("round-trips signSessionToken with the local issuer", async () => {
    const local = createTokenVerifier({ hs256Secret: SECRET, issuer: LOCAL_TOKEN_ISSUER });
    const token = await signSessionToken({ sub: USER_ID, email: "b@example.com", sessionId: "sid" }, SECRET, 120);
    const claims = await local.verify(token);
    expect(claims).toMatchObject({ sub: USER_ID, email: "b@example.com", sessionId: "sid" });
    expect(claims.exp - claims.iat).toBe(120);
  });

  it("rejects an expired token", async () => {
    await expectReason(verifier.verify(await hs256(standardClaims({ iat: now() - 7200, exp: now() - 3600 }))), "expired");
  });

  it("rejects a token for another audience, or without one", async () => {
    await expectReason(verifier.verify(await hs256(standardClaims({ aud: "anon" }))), "bad_audience");
    const { aud: _aud, ...noAudience } = standardClaims();
    await expectReason(verifier.verify(await hs256(noAudience)), "missing_claims");
  });

  it("rejects a token from another issuer when one is required", async () => {
    const local = createTokenVerifier({ hs256Secret: SECRET, issuer: LOCAL_TOKEN_ISSUER });
    await expectReason(local.verify(await hs256(standardClaims({ iss: "someone-else" }))), "bad_audience");
  });

  it("rejects a token signed with another key", async () => {
    await expectReason(verifier.verify(await hs256(standardClaims(), "another-secret-that-is-also-long-enough")), "bad_signature");
  });

  it("rejects a tampered payload", async () => {
    const [header, , signature] = (await hs256(standardClaims())).split(".");
    const forged = `${header}.${b64url(standardClaims({ sub: "00000000-0000-4000-8000-000000000000" }))}.${signature}`;
    await expectReason(verifier.verify(forged), "bad_signature");
  });

  it("rejects an unsigned `alg: none` token", async () => {
    const token = `${b64url({ alg: "none", typ: "JWT" })}.${b64url(standardClaims())}.`;
    await expectReason(verifier.verify(token), "bad_algorithm");
  });

  it("rejects HS512 even with the right secret", async () => {
    const token = await new SignJWT(standardClaims()).setProtectedHeader({ alg: "HS512" }).sign(enc.encode(SECRET));
    await expectReason(verifier.verify(token), "bad_algorithm");
  });

  it.each([
    ["empty", ""],
    ["not a JWT", "hello"],
    ["two segments", "abc.def"],
    ["bad characters", "a b.c d.e f"],
    ["garbage segments", "abc.def.ghi"],
    ["header not JSON", `${Buffer.from("nope").toString("base64url")}.${b64url(standardClaims())}.sig`],
    ["oversized", `${"a".repeat(9000)}.b.c`],
  ])("rejects a malformed token (%s)", async (_label, token) => {
    await expectReason(verifier.verify(token), "malformed");
  });

  it("requires exp, iat and a UUID subject", async () => {
    const { exp: _exp, ...noExp } = standardClaims();
    await expectReason(verifier.verify(await hs256(noExp)), "missing_claims");
    const { iat: _iat, ...noIat } = standardClaims();
    await expectReason(verifier.verify(await hs256(noIat)), "missing_claims");
    await expectReason(verifier.verify(await hs256(standardClaims({ sub: "service_role" }))), "missing_claims");
  });
});

describe("JWKS verifier (RS256/ES256)", () => {
  let server: Server;
  let jwksUrl: string;
  let requests = 0;
  const keys: JWK[] = [];
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let ec: Awaited<ReturnType<typeof generateKeyPair>>;
  let otherRsa: Awaited<ReturnType<typeof generateKeyPair>>;

  beforeAll(async () => {
    rsa = await generateKeyPair("RS256", { extractable: true });
    ec = await generateKeyPair("ES256", { extractable: true });
    otherRsa = await generateKeyPair("RS256", { extractable: true });
    keys.push({ ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" });
    keys.push({ ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" });
    server = createServer((req, res) => {
      requests += 1;
      if (req.url !== "/auth/v1/.well-known/jwks.json") {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/v1/.well-known/jwks.json`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const sign = (alg: "RS256" | "ES256", kid: string, key: Parameters<SignJWT["sign"]>[0], claims = standardClaims()) =>
    new SignJWT(claims).setProtectedHeader({ alg, kid, typ: "JWT" }).sign(key);

  it("accepts RS256 and ES256 tokens signed by keys in the set", async () => {
    const verifier = createTokenVerifier({ jwksUrl });
    await expect(verifier.verify(await sign("RS256", "rsa-1", rsa.privateKey))).resolves.toMatchObject({ sub: USER_ID });
    await expect(verifier.verify(await sign("ES256", "ec-1", ec.privateKey))).resolves.toMatchObject({ sub: USER_ID });
    expect(requests).toBeGreaterThanOrEqual(1);
  });

  it("rejects a token signed by a key outside the set", async () => {
    const verifier = createTokenVerifier({ jwksUrl });
    await expectReason(verifier.verify(await sign("RS256", "rsa-1", otherRsa.privateKey)), "bad_signature");
    await expectReason(verifier.verify(await sign("RS256", "unknown-kid", otherRsa.privateKey)), "bad_signature");
  });

  it("rejects an HS256 token presented to a JWKS-only verifier", async () => {
    const verifier = createTokenVerifier({ jwksUrl });
    await expectReason(verifier.verify(await hs256(standardClaims(), SECRET, { kid: "rsa-1" })), "bad_algorithm");
  });

  it("rejects an HS256 token keyed with the public key (algorithm confusion)", async () => {
    const verifier = createTokenVerifier({ jwksUrl, hs256Secret: SECRET });
    const pem = await exportSPKI(rsa.publicKey);
    await expectReason(verifier.verify(await hs256(standardClaims(), pem, { kid: "rsa-1" })), "bad_signature");
  });

  it("with both configured, picks the key source by algorithm", async () => {
    const verifier = createTokenVerifier({ jwksUrl, hs256Secret: SECRET });
    await expect(verifier.verify(await hs256(standardClaims()))).resolves.toMatchObject({ sub: USER_ID });
    await expect(verifier.verify(await sign("RS256", "rsa-1", rsa.privateKey))).resolves.toMatchObject({ sub: USER_ID });
  });

  it("checks audience and expiry for JWKS tokens too", async () => {
    const verifier = createTokenVerifier({ jwksUrl });
    await expectReason(verifier.verify(await sign("RS256", "rsa-1", rsa.privateKey, standardClaims({ aud: "x" }))), "bad_audience");
    await expectReason(
      verifier.verify(await sign("RS256", "rsa-1", rsa.privateKey, standardClaims({ exp: now() - 3600 }))),
      "expired",
    );
  });
});
