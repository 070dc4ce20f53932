/**
 * A local fake of Supabase Auth (GoTrue) for tests: the subset `@supabase/supabase-js` 2.109
 * (auth-js) calls for server-side PKCE sign-in, with the shapes it expects. No network.
 *
 *   POST /auth/v1/otp?redirect_to=…                  magic link: records the request ("the email")
 *   GET  /auth/v1/authorize?provider=…&redirect_to=…  OAuth: 303 straight back to redirect_to?code=…
 *                                                    (as if the provider and Supabase's callback ran)
 *   POST /auth/v1/token?grant_type=pkce              { auth_code, code_verifier } -> session
 *   POST /auth/v1/token?grant_type=refresh_token     { refresh_token } -> rotated session
 *   POST /auth/v1/logout?scope=local|global|others   Bearer access token -> 204
 *   GET  /auth/v1/user                               Bearer access token -> user
 *   GET  /auth/v1/.well-known/jwks.json              { keys: [] } (tokens are HS256)
 *
 * Access tokens are HS256 JWTs signed with `jwtSecret`, shaped like Supabase's (aud
 * "authenticated", sub = user UUID, email, role, session_id, iat, exp). Refresh tokens are
 * single-use and rotate. Errors use GoTrue's body `{ code, error_code, msg }` with the
 * `x-supabase-api-version` header, so auth-js maps them to the same error codes.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { jwtVerify, SignJWT } from "jose";
import { listen } from "./listen";

export interface FakeGoTrueUser {
  id: string;
  email: string;
  provider: string;
  createdAt: string;
}

export interface FakeSession {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  expires_at: number;
  refresh_token: string;
  user: Record<string, unknown>;
}

export interface OtpRequest {
  email: string;
  redirectTo: string | null;
  createUser: boolean;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
  apikey: string | null;
}

export interface AuthorizeRequest {
  provider: string;
  redirectTo: string | null;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
}

export interface LogoutRequest {
  scope: string;
  userId: string;
  sessionId: string;
}

export interface FakeGoTrueOptions {
  /** Signs access tokens (HS256); the app's SUPABASE_JWT_SECRET. At least 32 characters. */
  jwtSecret: string;
  /** Access token lifetime (default 3600 s). */
  accessTokenTtlSeconds?: number;
  /** Called once per new user, before the request that created it is answered (e.g. to add auth.users). */
  onUserCreated?: (user: FakeGoTrueUser) => void | Promise<void>;
  /** Who "signs in" at the OAuth provider (default oauth-user@example.test). */
  oauthEmail?: string;
}

export interface FakeGoTrue {
  /** The project URL (SUPABASE_URL); the Auth API lives under /auth/v1. */
  url: string;
  otpRequests: OtpRequest[];
  authorizeRequests: AuthorizeRequest[];
  logouts: LogoutRequest[];
  /** grant_type of every /token call, in order. */
  tokenGrants: string[];
  userCalls: number;
  users: Map<string, FakeGoTrueUser>;
  /**
   * The link the last OTP email for `email` carries, after Supabase's /verify step: the
   * request's redirect_to with `?code=` (a PKCE auth code bound to that request's challenge).
   */
  magicLink(email: string): string;
  /** A session minted directly (e.g. with an already expired access token), for cookie tests. */
  issueSession(email: string, options?: { accessTokenTtlSeconds?: number }): Promise<FakeSession>;
  /** The next `count` Auth calls (not the JWKS) answer `status` with GoTrue's error body. */
  failNext(count: number, status: number, code?: string): void;
  /** Whether the refresh token still works (not used, session not signed out). */
  refreshTokenActive(token: string): boolean;
  close(): Promise<void>;
}

interface AuthCode {
  userId: string;
  challenge: string | null;
  method: string | null;
  expiresAt: number;
  used: boolean;
}

interface SessionState {
  userId: string;
  revoked: boolean;
}

interface RefreshState {
  sessionId: string;
  used: boolean;
}

const CODE_TTL_MS = 5 * 60_000;

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "x-supabase-api-version": "2024-01-01",
    ...(body === undefined ? {} : { "content-type": "application/json" }),
    ...headers,
  });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new HttpError(400, "validation_failed", "body must be a JSON object");
  return parsed as Record<string, unknown>;
}

const str = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

export async function startFakeGoTrue(options: FakeGoTrueOptions): Promise<FakeGoTrue> {
  const secret = new TextEncoder().encode(options.jwtSecret);
  const accessTtl = options.accessTokenTtlSeconds ?? 3600;
  const users = new Map<string, FakeGoTrueUser>(); // by email
  const codes = new Map<string, AuthCode>();
  const sessions = new Map<string, SessionState>();
  const refreshTokens = new Map<string, RefreshState>();
  const otpRequests: OtpRequest[] = [];
  const authorizeRequests: AuthorizeRequest[] = [];
  const logouts: LogoutRequest[] = [];
  const tokenGrants: string[] = [];
  let userCalls = 0;
  let fault: { count: number; status: number; code: string } | null = null;
  let url = "";

  const userById = (id: string) => [...users.values()].find((u) => u.id === id);

  async function ensureUser(email: string, provider: string): Promise<FakeGoTrueUser> {
    const key = email.toLowerCase();
    const existing = users.get(key);
    if (existing) return existing;
    const user: FakeGoTrueUser = { id: randomUUID(), email: key, provider, createdAt: new Date().toISOString() };
    users.set(key, user);
    await options.onUserCreated?.(user);
    return user;
  }

  function userJson(user: FakeGoTrueUser): Record<string, unknown> {
    return {
      id: user.id,
      aud: "authenticated",
      role: "authenticated",
      email: user.email,
      email_confirmed_at: user.createdAt,
      phone: "",
      confirmed_at: user.createdAt,
      last_sign_in_at: new Date().toISOString(),
      app_metadata: { provider: user.provider, providers: [user.provider] },
      user_metadata: {},
      identities: [],
      created_at: user.createdAt,
      updated_at: user.createdAt,
      is_anonymous: false,
    };
  }

  async function mintSession(user: FakeGoTrueUser, sessionId: string, ttl = accessTtl): Promise<FakeSession> {
    const now = Math.floor(Date.now() / 1000);
    // An already expired token was issued an hour before it expired, like a real stale one.
    const iat = ttl > 0 ? now : now + ttl - 3600;
    const accessToken = await new SignJWT({
      email: user.email,
      phone: "",
      role: "authenticated",
      aal: "aal1",
      session_id: sessionId,
      is_anonymous: false,
      app_metadata: { provider: user.provider, providers: [user.provider] },
      user_metadata: {},
    })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(`${url}/auth/v1`)
      .setSubject(user.id)
      .setAudience("authenticated")
      .setIssuedAt(iat)
      .setExpirationTime(now + ttl)
      .sign(secret);
    const refreshToken = randomBytes(16).toString("hex");
    refreshTokens.set(refreshToken, { sessionId, used: false });
    return {
      access_token: accessToken,
      token_type: "bearer",
      expires_in: ttl,
      expires_at: now + ttl,
      refresh_token: refreshToken,
      user: userJson(user),
    };
  }

  async function newSession(user: FakeGoTrueUser, ttl?: number): Promise<FakeSession> {
    const sessionId = randomUUID();
    sessions.set(sessionId, { userId: user.id, revoked: false });
    return mintSession(user, sessionId, ttl);
  }

  function issueCode(userId: string, challenge: string | null, method: string | null): string {
    const code = randomUUID();
    codes.set(code, { userId, challenge, method, expiresAt: Date.now() + CODE_TTL_MS, used: false });
    return code;
  }

  async function bearerClaims(req: IncomingMessage): Promise<{ sub: string; sessionId: string }> {
    const match = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? "");
    if (!match?.[1]) throw new HttpError(401, "no_authorization", "This endpoint requires a Bearer token");
    try {
      const { payload } = await jwtVerify(match[1], secret, { audience: "authenticated", algorithms: ["HS256"] });
      return { sub: String(payload.sub), sessionId: String(payload.session_id) };
    } catch {
      throw new HttpError(403, "bad_jwt", "invalid JWT: unable to parse or verify signature");
    }
  }

  function requireApiKey(req: IncomingMessage): void {
    if (!req.headers.apikey) throw new HttpError(401, "no_api_key", "No API key found in request");
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestUrl = new URL(req.url ?? "/", "http://fake.invalid");
    const path = requestUrl.pathname;
    const route = `${req.method} ${path}`;

    if (route === "GET /auth/v1/.well-known/jwks.json") return send(res, 200, { keys: [] });
    if (fault && fault.count > 0) {
      fault.count -= 1;
      const { status, code } = fault;
      if (fault.count === 0) fault = null;
      throw new HttpError(status, code, `injected failure (${status})`);
    }

    switch (route) {
      case "POST /auth/v1/otp": {
        requireApiKey(req);
        const body = await readJson(req);
        const email = str(body.email);
        if (!email) throw new HttpError(400, "validation_failed", "An email address is required");
        const createUser = body.create_user !== false;
        otpRequests.push({
          email: email.toLowerCase(),
          redirectTo: requestUrl.searchParams.get("redirect_to"),
          createUser,
          codeChallenge: str(body.code_challenge),
          codeChallengeMethod: str(body.code_challenge_method),
          apikey: typeof req.headers.apikey === "string" ? req.headers.apikey : null,
        });
        if (!users.has(email.toLowerCase())) {
          if (!createUser) throw new HttpError(422, "otp_disabled", "Signups not allowed for otp");
          await ensureUser(email, "email");
        }
        return send(res, 200, {});
      }

      case "GET /auth/v1/authorize": {
        const provider = requestUrl.searchParams.get("provider") ?? "";
        const redirectTo = requestUrl.searchParams.get("redirect_to");
        const codeChallenge = requestUrl.searchParams.get("code_challenge");
        const codeChallengeMethod = requestUrl.searchParams.get("code_challenge_method");
        authorizeRequests.push({ provider, redirectTo, codeChallenge, codeChallengeMethod });
        if (!["google", "github"].includes(provider)) throw new HttpError(400, "validation_failed", "Unsupported provider: Provider is not enabled");
        if (!redirectTo) throw new HttpError(400, "validation_failed", "redirect_to is required in this fake");
        const user = await ensureUser(options.oauthEmail ?? "oauth-user@example.test", provider);
        const back = new URL(redirectTo);
        back.searchParams.set("code", issueCode(user.id, codeChallenge, codeChallengeMethod));
        return send(res, 303, undefined, { location: back.toString() });
      }

      case "POST /auth/v1/token": {
        requireApiKey(req);
        const grant = requestUrl.searchParams.get("grant_type") ?? "";
        tokenGrants.push(grant);
        const body = await readJson(req);
        if (grant === "pkce") {
          const authCode = str(body.auth_code);
          const verifier = str(body.code_verifier);
          if (!authCode || !verifier) throw new HttpError(400, "validation_failed", "invalid request: both auth code and code verifier should be non-empty");
          const entry = codes.get(authCode);
          if (!entry || entry.used) throw new HttpError(404, "flow_state_not_found", "invalid flow state, no valid flow state found");
          if (entry.expiresAt < Date.now()) throw new HttpError(400, "flow_state_expired", "invalid flow state, flow state has expired");
          const expected =
            entry.method?.toLowerCase() === "plain" ? verifier : createHash("sha256").update(verifier).digest("base64url");
          if (expected !== entry.challenge) throw new HttpError(400, "bad_code_verifier", "code challenge does not match previously saved code verifier");
          entry.used = true;
          const user = userById(entry.userId);
          if (!user) throw new HttpError(404, "user_not_found", "User not found");
          return send(res, 200, await newSession(user));
        }
        if (grant === "refresh_token") {
          const token = str(body.refresh_token);
          const entry = token ? refreshTokens.get(token) : undefined;
          const session = entry ? sessions.get(entry.sessionId) : undefined;
          if (!entry || entry.used || !session || session.revoked) {
            throw new HttpError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
          }
          entry.used = true;
          const user = userById(session.userId);
          if (!user) throw new HttpError(404, "user_not_found", "User not found");
          return send(res, 200, await mintSession(user, entry.sessionId));
        }
        throw new HttpError(400, "validation_failed", `unsupported grant_type ${grant}`);
      }

      case "POST /auth/v1/logout": {
        requireApiKey(req);
        const { sub, sessionId } = await bearerClaims(req);
        const scope = requestUrl.searchParams.get("scope") ?? "global";
        logouts.push({ scope, userId: sub, sessionId });
        for (const [id, state] of sessions) {
          if (state.userId !== sub) continue;
          if (scope === "global" || (scope === "local" && id === sessionId) || (scope === "others" && id !== sessionId)) state.revoked = true;
        }
        return send(res, 204);
      }

      case "GET /auth/v1/user": {
        requireApiKey(req);
        userCalls += 1;
        const { sub } = await bearerClaims(req);
        const user = userById(sub);
        if (!user) throw new HttpError(404, "user_not_found", "User from sub claim in JWT does not exist");
        return send(res, 200, userJson(user));
      }

      default:
        throw new HttpError(404, "not_found", `no fake for ${route}`);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof HttpError) {
        send(res, error.status, { code: error.code, error_code: error.code, msg: error.message });
      } else {
        send(res, 500, { code: "unexpected_failure", msg: error instanceof Error ? error.message : String(error) });
      }
    });
  });
  url = await listen(server);

  return {
    url,
    otpRequests,
    authorizeRequests,
    logouts,
    tokenGrants,
    get userCalls() {
      return userCalls;
    },
    users,
    magicLink(email) {
      const request = otpRequests.findLast((r) => r.email === email.toLowerCase());
      const user = users.get(email.toLowerCase());
      if (!request || !user) throw new Error(`no sign-in email was requested for ${email}`);
      if (!request.redirectTo) throw new Error("the OTP request had no redirect_to");
      const link = new URL(request.redirectTo);
      link.searchParams.set("code", issueCode(user.id, request.codeChallenge, request.codeChallengeMethod));
      return link.toString();
    },
    async issueSession(email, issueOptions = {}) {
      const user = await ensureUser(email, "email");
      return newSession(user, issueOptions.accessTokenTtlSeconds);
    },
    failNext(count, status, code = status === 429 ? "over_email_send_rate_limit" : "unexpected_failure") {
      fault = count > 0 ? { count, status, code } : null;
    },
    refreshTokenActive(token) {
      const entry = refreshTokens.get(token);
      return Boolean(entry && !entry.used && sessions.get(entry.sessionId)?.revoked === false);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The value @supabase/ssr stores for a session (base64url-encoded JSON, `base64-` prefixed). */
export function ssrCookieValue(session: FakeSession): string {
  return `base64-${Buffer.from(JSON.stringify(session), "utf8").toString("base64url")}`;
}
