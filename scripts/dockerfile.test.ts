import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Docker cannot run here, so the packaging rules are checked on the files themselves: what
 * .dockerignore keeps out of the build context, what the build stage copies, and how the
 * image runs (non-root, health-checked, through scripts/start.mjs).
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

/* ------------------------------------------------------------------ .dockerignore */

interface Rule {
  negated: boolean;
  pattern: RegExp;
}

/** Docker's matching: Go filepath.Match per segment, `**` for any depth, `!` re-includes; the last matching rule wins. */
function parseDockerignore(text: string): Rule[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const negated = line.startsWith("!");
      const glob = path.posix.normalize((negated ? line.slice(1) : line).replace(/^\/+/, ""));
      let source = "";
      for (let i = 0; i < glob.length; i++) {
        const c = glob[i]!;
        if (c === "*" && glob[i + 1] === "*") {
          source += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
          i += glob[i + 2] === "/" ? 2 : 1;
        } else if (c === "*") source += "[^/]*";
        else if (c === "?") source += "[^/]";
        else source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
      }
      return { negated, pattern: new RegExp(`^${source}$`) };
    });
}

/** Whether a context path is left out: a rule matching the path or any of its parent folders. */
function excluded(rules: Rule[], file: string): boolean {
  const parts = file.split("/");
  let out = false;
  for (const rule of rules) {
    for (let n = 1; n <= parts.length; n++) {
      if (rule.pattern.test(parts.slice(0, n).join("/"))) {
        out = !rule.negated;
        break;
      }
    }
  }
  return out;
}

/* ------------------------------------------------------------------ Dockerfile */

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword = "", ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (keyword.toUpperCase() === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: m?.[1] ?? args, name: m?.[2], instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** The sources of a COPY from the build context (not `--from=`), or undefined for a stage copy. */
function contextSources(args: string): string[] | undefined {
  const words = args.split(/\s+/);
  if (words.some((w) => w.startsWith("--from="))) return undefined;
  const paths = words.filter((w) => !w.startsWith("--"));
  return paths.slice(0, -1);
}

const rules = parseDockerignore(read(".dockerignore"));
const stages = parseDockerfile(read("Dockerfile"));
const build = stages.find((s) => s.name === "build");
const run = stages.at(-1)!;

describe(".dockerignore", () => {
  it.each([
    ".env",
    ".env.local",
    ".env.production",
    ".env.production.local",
    "monitoring/secrets/metrics-token",
    ".data/auth-secret",
    ".data/pglite/base/1/123",
    ".data/test-results/embedded.json",
    ".next/cache/webpack/x",
    ".next/standalone/server.js",
    "node_modules/next/package.json",
    ".git/HEAD",
    "e2e/.artifacts/server.log",
    "e2e/guest.spec.ts",
    "test-results/x.png",
    "playwright-report/index.html",
    "lib/http/client-ip.test.ts",
    "app/api/user-routes.int.test.ts",
    "tsconfig.tsbuildinfo",
  ])("keeps %s out of the build context", (file) => {
    expect(excluded(rules, file)).toBe(true);
  });

  it.each(["package.json", "lib/env.ts", "app/layout.tsx", "messages/en/common.json", "supabase/migrations/x.sql", "scripts/start.mjs"])(
    "keeps %s in",
    (file) => {
      expect(excluded(rules, file)).toBe(false);
    },
  );

  it("the matcher itself: negation and depth", () => {
    const r = parseDockerignore("*.md\n!README.md\n**/*.tmp\n/build");
    expect(excluded(r, "NOTES.md")).toBe(true);
    expect(excluded(r, "README.md")).toBe(false);
    expect(excluded(r, "docs/NOTES.md")).toBe(false); // `*` does not cross folders
    expect(excluded(r, "a/b/c.tmp")).toBe(true);
    expect(excluded(r, "build/x")).toBe(true);
  });
});

describe("Dockerfile", () => {
  it("has a build stage that copies an explicit list, never the whole context", () => {
    expect(build).toBeDefined();
    const copies = build!.instructions.filter((i) => i.keyword === "COPY" || i.keyword === "ADD");
    expect(copies.every((i) => i.keyword === "COPY")).toBe(true);
    for (const copy of copies) {
      for (const source of contextSources(copy.args) ?? []) {
        expect(source, `COPY ${copy.args}`).not.toMatch(/^\.\/?$|\*/);
        expect(existsSync(path.join(ROOT, source)), `${source} exists`).toBe(true);
        expect(excluded(rules, source), `${source} is in the context`).toBe(false);
        expect(source).not.toMatch(/^\.env|^\.data|^\.next|^node_modules/);
      }
    }
  });

  it("copies every folder the app's source imports from (`@/x`), so the build cannot miss one", () => {
    const sources = build!.instructions.flatMap((i) => (i.keyword === "COPY" ? (contextSources(i.args) ?? []) : []));
    const copied = new Set(sources);
    /** The TypeScript files a copied path brings into the image (what `next build` compiles and type-checks). */
    const sourceFiles = (rel: string): string[] => {
      if (excluded(rules, rel)) return [];
      if (statSync(path.join(ROOT, rel)).isDirectory()) return readdirSync(path.join(ROOT, rel)).flatMap((name) => sourceFiles(path.posix.join(rel, name)));
      return /\.(ts|tsx)$/.test(rel) ? [rel] : [];
    };
    const roots = new Set<string>();
    for (const source of sources) {
      for (const file of sourceFiles(source)) {
        for (const m of read(file).matchAll(/from "@\/([^/"]+)/g)) roots.add(m[1]!);
      }
    }
    expect(roots.size).toBeGreaterThan(0);
    for (const root of roots) {
      const candidates = [root, `${root}.ts`, `${root}.tsx`];
      expect(candidates.some((c) => copied.has(c)), `@/${root} is copied`).toBe(true);
    }
  });

  it("runs the standalone server through scripts/start.mjs, as a non-root user, with a health check", () => {
    const keywords = run.instructions.map((i) => i.keyword);
    // The image's files all come from the build stage, none straight from the context.
    for (const copy of run.instructions.filter((i) => i.keyword === "COPY")) expect(contextSources(copy.args)).toBeUndefined();
    expect(run.instructions.some((i) => i.keyword === "COPY" && i.args.includes("/app/.next/standalone"))).toBe(true);
    expect(run.instructions.some((i) => i.keyword === "COPY" && /scripts\/start\.mjs\s+\.\/start\.mjs$/.test(i.args))).toBe(true);

    const user = run.instructions.filter((i) => i.keyword === "USER").at(-1);
    expect(user?.args).toBeDefined();
    expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
    expect(keywords.lastIndexOf("USER")).toBeLessThan(keywords.lastIndexOf("CMD"));

    const health = run.instructions.find((i) => i.keyword === "HEALTHCHECK");
    expect(health?.args).toMatch(/CMD .*\/api\/health/);
    expect(run.instructions.find((i) => i.keyword === "CMD")?.args).toBe('["node", "start.mjs"]');
    expect(run.instructions.find((i) => i.keyword === "ENV")?.args).toMatch(/NODE_ENV=production/);
  });

  it("puts no secret into any layer: no secret-named ENV/ARG, no .env/.npmrc/secret files copied, no literal credentials", () => {
    const secretName = /SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|(^|_)KEY($|_)|API_KEY|PRIVATE/i;
    for (const stage of stages) {
      for (const { keyword, args } of stage.instructions) {
        if (keyword === "ENV" || keyword === "ARG") {
          // `ENV A=1 B=2`, `ENV A 1`, `ARG A`, `ARG A=default`
          const names = args.includes("=") ? [...args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]!) : [args.split(/\s+/)[0]!];
          expect(names.length, `${keyword} ${args}`).toBeGreaterThan(0);
          for (const name of names) expect(name, `${stage.name ?? stage.from}: ${keyword} ${args}`).not.toMatch(secretName);
        }
        if (keyword === "COPY" || keyword === "ADD") {
          for (const source of contextSources(args) ?? []) {
            expect(source, `${keyword} ${args}`).not.toMatch(/(^|\/)\.env|(^|\/)\.npmrc$|(^|\/)\.data(\/|$)|(^|\/)secrets(\/|$)|\.pem$|\.key$/);
          }
        }
        // A build secret must come through `RUN --mount=type=secret`, never inline.
        expect(args, `${keyword} ${args}`).not.toMatch(/\bsk-[A-Za-z0-9_-]{8,}|Bearer\s+[A-Za-z0-9._-]{8,}|:\/\/[^/\s:@]+:[^@\s]+@/);
      }
    }
  });

  it("declares exactly one HEALTHCHECK, in the image that runs, against /api/health with bounded timings", () => {
    for (const stage of stages.slice(0, -1)) expect(stage.instructions.some((i) => i.keyword === "HEALTHCHECK"), stage.name).toBe(false);
    const checks = run.instructions.filter((i) => i.keyword === "HEALTHCHECK");
    expect(checks).toHaveLength(1);
    const args = checks[0]!.args;
    expect(args).not.toMatch(/^NONE\b/i);
    for (const option of ["interval", "timeout", "retries"]) expect(args, option).toMatch(new RegExp(`--${option}=\\S+`));
    // It runs as the image's user with what the image has: node, no curl or wget in -slim.
    expect(args).toMatch(/CMD node -e .*fetch\(.*\/api\/health/);
  });

  it("installs from the lockfile", () => {
    const deps = stages.find((s) => s.name === "deps");
    expect(deps?.instructions.some((i) => i.keyword === "RUN" && /\bnpm ci\b/.test(i.args))).toBe(true);
  });
});
