import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * docker-compose.yml, checked on the file itself (Docker cannot run here): the services PRODUCT §9
 * and issue 11 ask for, a health check on every long-running service, `depends_on` with
 * conditions, log rotation everywhere, only the proxy and Grafana published, named volumes,
 * read-only bind mounts of files that exist, and every variable the app is given (and every
 * `${VAR}` the file reads from the operator's environment) documented in .env.example.
 *
 * No YAML library is a dependency of the project, so the file keeps to a small subset that the
 * parser below reads (block maps and lists, JSON-style flow collections, quoted and plain scalars,
 * `|` blocks, anchors, aliases and `<<` merges) and rejects anything else. When js-yaml happens to
 * be installed (eslint brings it), the parse is compared with it.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

/* ------------------------------------------------------------------ the YAML subset */

type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };
type YamlMap = { [key: string]: Yaml };

/** A scalar as text (compose reads numbers and booleans as strings too); anything else is an error. */
function str(v: Yaml | undefined): string {
  if (v === null || v === undefined || typeof v === "object") throw new Error(`expected a scalar, got ${JSON.stringify(v)}`);
  return String(v);
}

interface Line {
  no: number;
  indent: number;
  text: string;
}

/** Drops a comment: `#` at the start or after a space, outside quotes. */
function stripComment(text: string): string {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) return text.slice(0, i).trimEnd();
  }
  return text.trimEnd();
}

/** Index of the `:` that ends a mapping key (followed by a space or the end), outside quotes; -1 if none. */
function keyColon(text: string): number {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if ((c === '"' || c === "'") && i === 0) quote = c;
    else if (c === "[" || c === "{") return -1;
    else if (c === ":" && (i + 1 === text.length || text[i + 1] === " ")) return i;
  }
  return -1;
}

function parseYamlSubset(source: string): Yaml {
  const raw = source.replace(/\r\n/g, "\n").split("\n");
  const anchors = new Map<string, Yaml>();
  let pos = 0;
  /** The next line that is not blank or a comment, with `pos` left on it. */
  const peek = (): Line | undefined => {
    while (pos < raw.length) {
      const line = raw[pos]!;
      if (/\t/.test(line.match(/^\s*/)![0])) throw new Error(`line ${pos + 1}: tab indentation`);
      const text = stripComment(line.trim() === "" ? "" : line);
      if (text.trim() !== "") return { no: pos + 1, indent: text.length - text.trimStart().length, text: text.trim() };
      pos++;
    }
    return undefined;
  };
  const fail = (line: Line | undefined, message: string): never => {
    throw new Error(`line ${line?.no ?? raw.length}: ${message}`);
  };

  function scalar(text: string, line: Line): Yaml {
    if (text.startsWith("*")) {
      const name = text.slice(1);
      if (!anchors.has(name)) fail(line, `unknown alias *${name}`);
      return anchors.get(name)!;
    }
    if (text.startsWith('"')) return JSON.parse(text) as string;
    if (text.startsWith("'")) {
      if (!/^'(?:[^']|'')*'$/.test(text)) fail(line, `bad single-quoted scalar ${text}`);
      return text.slice(1, -1).replaceAll("''", "'");
    }
    if (text.startsWith("[") || text.startsWith("{")) {
      try {
        return JSON.parse(text) as Yaml;
      } catch {
        return fail(line, `flow collections must be JSON: ${text}`);
      }
    }
    if (/^[&!|>%@`]/.test(text)) fail(line, `unsupported syntax: ${text}`);
    if (text === "true" || text === "false") return text === "true";
    if (text === "null" || text === "~") return null;
    if (/^-?(?:0|[1-9]\d*)$/.test(text)) return Number(text);
    if (/^-?\d+\.\d+$/.test(text)) return Number(text);
    return text;
  }

  /** A `|` / `|-` block: the more-indented lines after `parent`, verbatim. */
  function blockScalar(indicator: string, parentIndent: number, line: Line): string {
    if (indicator !== "|" && indicator !== "|-") fail(line, `unsupported block scalar ${indicator}`);
    pos++;
    const lines: string[] = [];
    while (pos < raw.length && (raw[pos]!.trim() === "" || raw[pos]!.search(/\S/) > parentIndent)) lines.push(raw[pos++]!);
    while (lines.length > 0 && lines.at(-1)!.trim() === "") lines.pop();
    const indent = Math.min(...lines.filter((l) => l.trim() !== "").map((l) => l.search(/\S/)));
    const text = lines.map((l) => l.slice(indent)).join("\n");
    return indicator === "|" ? `${text}\n` : text;
  }

  /** The value after `key:` or `- ` (`rest`), on `line` at `indent`. */
  function value(rest: string, indent: number, line: Line): Yaml {
    let anchor: string | undefined;
    const m = /^&([\w-]+)\s*(.*)$/.exec(rest);
    if (m) {
      anchor = m[1];
      rest = m[2]!;
    }
    let result: Yaml;
    if (rest === "") {
      pos++;
      const next = peek();
      if (next && next.indent > indent) result = node(next.indent);
      else if (next && next.indent === indent && next.text.startsWith("- ")) result = sequence(indent);
      else result = null;
    } else if (rest.startsWith("|")) {
      result = blockScalar(rest, indent, line);
    } else {
      result = scalar(rest, line);
      pos++;
      const next = peek();
      if (next && next.indent > indent) fail(next, "multi-line plain scalars are not supported");
    }
    if (anchor) anchors.set(anchor, result);
    return result;
  }

  function mapping(indent: number, first?: Line): YamlMap {
    const map: YamlMap = {};
    const merges: YamlMap[] = [];
    let line: Line | undefined = first ?? peek();
    while (line && line.indent === indent && !line.text.startsWith("- ")) {
      const colon = keyColon(line.text);
      if (colon < 0) fail(line, `expected "key: value", got ${line.text}`);
      const rawKey = line.text.slice(0, colon).trim();
      const key = str(scalar(rawKey, line));
      const rest = line.text.slice(colon + 1).trim();
      const v = value(rest, indent, line);
      if (key === "<<") {
        if (v === null || typeof v !== "object" || Array.isArray(v)) fail(line, "<< needs a mapping alias");
        merges.push(v as YamlMap);
      } else {
        if (Object.hasOwn(map, key)) fail(line, `duplicate key ${key}`);
        map[key] = v;
      }
      line = peek();
    }
    if (line && line.indent > indent) fail(line, "unexpected indentation");
    // Explicit keys win over merged ones, whatever their order.
    for (const merged of merges) for (const [k, v] of Object.entries(merged)) if (!Object.hasOwn(map, k)) map[k] = v;
    return map;
  }

  function sequence(indent: number): Yaml[] {
    const list: Yaml[] = [];
    let line = peek();
    while (line && line.indent === indent && (line.text === "-" || line.text.startsWith("- "))) {
      const rest = line.text.slice(1).trim();
      if (rest !== "" && keyColon(rest) > 0 && !/^[*&"'[{]/.test(rest)) {
        // `- key: value`: a mapping whose first key sits after the dash.
        const inner = indent + (line.text.length - rest.length);
        list.push(mapping(inner, { no: line.no, indent: inner, text: rest }));
      } else {
        list.push(value(rest, indent, line));
      }
      line = peek();
    }
    return list;
  }

  function node(indent: number): Yaml {
    const line = peek()!;
    return line.text === "-" || line.text.startsWith("- ") ? sequence(indent) : mapping(indent);
  }

  const first = peek();
  if (!first) return null;
  const doc = node(first.indent);
  const rest = peek();
  if (rest) fail(rest, "unexpected content");
  return doc;
}

/* ------------------------------------------------------------------ helpers */

const isMap = (v: Yaml | undefined): v is YamlMap => typeof v === "object" && v !== null && !Array.isArray(v);
const mapAt = (v: Yaml | undefined, what: string): YamlMap => {
  if (!isMap(v)) throw new Error(`${what} is not a mapping`);
  return v;
};

/** `${NAME}`, `${NAME:-x}`, `${NAME:?x}` … read from the operator's environment (`$$` is a literal `$`). */
function interpolated(text: string): string[] {
  return [...text.replaceAll("$$", "").matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}

/** Variables .env.example documents: `NAME=` lines, commented out or not. */
function documentedVariables(text: string): Set<string> {
  return new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
}

const composeText = read("docker-compose.yml");
const compose = mapAt(parseYamlSubset(composeText), "docker-compose.yml");
const services = mapAt(compose.services, "services");
const volumes = mapAt(compose.volumes, "volumes");
const serviceNames = Object.keys(services);
const service = (name: string) => mapAt(services[name], `service ${name}`);
/** One-shot jobs: run to completion, awaited with service_completed_successfully, no health check. */
const oneShot = serviceNames.filter((name) => service(name).restart === "no");
const longRunning = serviceNames.filter((name) => !oneShot.includes(name));

/* ------------------------------------------------------------------ tests */

describe("the YAML subset parser", () => {
  it("reads maps, lists, scalars, blocks, anchors and merges", () => {
    const doc = parseYamlSubset(
      [
        "base: &base",
        "  a: 1",
        "  b: 'it''s'",
        "list:",
        '  - "x # not a comment"   # a comment',
        "  - k: v",
        "    n: null",
        "  - [1, \"two\"]",
        "child:",
        "  <<: *base",
        "  b: over",
        "  block: |",
        "    line 1",
        "      line 2",
        "flag: true",
      ].join("\n"),
    );
    expect(doc).toEqual({
      base: { a: 1, b: "it's" },
      list: ["x # not a comment", { k: "v", n: null }, [1, "two"]],
      child: { a: 1, b: "over", block: "line 1\n  line 2\n" },
      flag: true,
    });
  });

  it("refuses what it does not understand instead of guessing", () => {
    expect(() => parseYamlSubset("a: b\n  c: d")).toThrow(/line 2/);
    expect(() => parseYamlSubset("a: *missing")).toThrow(/unknown alias/);
    expect(() => parseYamlSubset("a: [x, y]")).toThrow(/JSON/);
    expect(() => parseYamlSubset("a: 1\na: 2")).toThrow(/duplicate key/);
    expect(() => parseYamlSubset("a: >\n  folded")).toThrow(/unsupported/);
  });

  it("agrees with js-yaml on docker-compose.yml when js-yaml is installed", () => {
    let load: ((text: string) => unknown) | undefined;
    try {
      load = (createRequire(import.meta.url)("js-yaml") as { load: (text: string) => unknown }).load;
    } catch {
      load = undefined;
    }
    // js-yaml is eslint's dependency, not ours; without it the subset parser stands alone.
    if (!load) return;
    expect(compose).toEqual(load(composeText));
  });
});

describe("docker-compose.yml", () => {
  it("has two app replicas on the same image and environment, the proxy, the stores, monitoring and retention", () => {
    for (const name of ["litstatus-web", "litstatus-web-2", "proxy", "postgres", "redis", "redis-rest", "prometheus", "grafana", "retention"]) {
      expect(serviceNames, name).toContain(name);
    }
    const [a, b] = [service("litstatus-web"), service("litstatus-web-2")];
    expect(a.image).toBeTypeOf("string");
    expect(b.image).toBe(a.image);
    expect(b.environment).toEqual(a.environment);
    expect(b.healthcheck).toEqual(a.healthcheck);
    expect(b.depends_on).toEqual(a.depends_on);
    // The first replica's container is `litstatus-web` whatever the compose project is called.
    expect(a.container_name).toBe("litstatus-web");
    expect(b.container_name).toBe("litstatus-web-2");
    expect(str(service("proxy").image)).toMatch(/^nginx:stable/);
    expect(str(service("postgres").image)).toMatch(/^postgres:16/);
    expect(str(service("redis").image)).toMatch(/^redis:7/);
    expect(str(service("prometheus").image)).toMatch(/^prom\/prometheus:/);
    expect(str(service("grafana").image)).toMatch(/^grafana\/grafana/);
  });

  it("wires the app to PostgreSQL and to Redis through the Upstash REST proxy, behind one trusted proxy hop", () => {
    const env = mapAt(service("litstatus-web").environment, "litstatus-web environment");
    expect(str(env.DATABASE_URL)).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    expect(str(env.UPSTASH_REDIS_REST_URL)).toMatch(/^http:\/\/redis-rest(:\d+)?$/);
    const rest = mapAt(service("redis-rest").environment, "redis-rest environment");
    expect(rest.SRH_MODE).toBe("env");
    expect(str(rest.SRH_CONNECTION_STRING)).toMatch(/^redis:\/\/redis:6379/);
    // The REST proxy's token and the app's are the same operator variable.
    expect(interpolated(str(rest.SRH_TOKEN))).toEqual(interpolated(str(env.UPSTASH_REDIS_REST_TOKEN)));
    expect(env.TRUST_PROXY_HEADER).toBe("x-forwarded-for");
    expect(str(env.TRUST_PROXY_HOPS)).toBe("1");
    for (const secret of ["AUTH_SECRET", "METRICS_TOKEN", "CRON_SECRET", "UPSTASH_REDIS_REST_TOKEN"]) {
      // Secrets come from the operator's environment, never a value written in the file.
      expect(interpolated(str(env[secret])), secret).toEqual([secret]);
    }
  });

  it("checks the health of every long-running service, and runs the one-shot jobs to completion", () => {
    for (const name of longRunning) {
      const health = mapAt(service(name).healthcheck, `${name} healthcheck`);
      const test = health.test;
      expect(Array.isArray(test) && (test[0] === "CMD" || test[0] === "CMD-SHELL") && test.length > 1, `${name} healthcheck test`).toBe(true);
      expect(health.interval, `${name} interval`).toBeTypeOf("string");
      expect(health.retries, `${name} retries`).toBeTypeOf("number");
    }
    const completedDependents = serviceNames.flatMap((name) =>
      Object.entries(isMap(service(name).depends_on) ? mapAt(service(name).depends_on, "depends_on") : {})
        .filter(([, dep]) => isMap(dep) && dep.condition === "service_completed_successfully")
        .map(([dep]) => dep),
    );
    for (const job of oneShot) expect(completedDependents, `${job} is awaited`).toContain(job);
  });

  it("states a condition on every dependency: healthy for services, completed for jobs", () => {
    for (const name of serviceNames) {
      const dependsOn = service(name).depends_on;
      if (dependsOn === undefined) continue;
      // The short list form (`- postgres`) waits only for the container to start: not allowed.
      for (const [dep, spec] of Object.entries(mapAt(dependsOn, `${name} depends_on`))) {
        expect(serviceNames, `${name} depends on ${dep}`).toContain(dep);
        const condition = mapAt(spec, `${name} depends_on ${dep}`).condition;
        expect(condition, `${name} → ${dep}`).toBe(oneShot.includes(dep) ? "service_completed_successfully" : "service_healthy");
      }
    }
    const app = mapAt(service("litstatus-web").depends_on, "app depends_on");
    expect(Object.keys(app)).toEqual(expect.arrayContaining(["postgres", "redis-rest"]));
    expect(Object.keys(mapAt(service("proxy").depends_on, "proxy depends_on")).sort()).toEqual(["litstatus-web", "litstatus-web-2"]);
    expect(Object.keys(mapAt(service("redis-rest").depends_on, "redis-rest depends_on"))).toContain("redis");
    expect(Object.keys(mapAt(service("grafana").depends_on, "grafana depends_on"))).toContain("prometheus");
  });

  it("rotates every service's logs: json-file, max-size 10m, max-file 3", () => {
    for (const name of serviceNames) {
      const logging = mapAt(service(name).logging, `${name} logging`);
      expect(logging.driver, name).toBe("json-file");
      expect(logging.options, name).toEqual({ "max-size": "10m", "max-file": "3" });
    }
  });

  it("publishes ports for the proxy and Grafana only", () => {
    const published = serviceNames.filter((name) => service(name).ports !== undefined);
    expect(published.sort()).toEqual(["grafana", "proxy"]);
    for (const name of serviceNames) expect(service(name).network_mode, name).toBeUndefined();
  });

  it("keeps data in named volumes and mounts repository files read-only", () => {
    const used = new Set<string>();
    for (const name of serviceNames) {
      const mounts = service(name).volumes;
      if (mounts === undefined) continue;
      expect(Array.isArray(mounts), `${name} volumes`).toBe(true);
      for (const mount of mounts as Yaml[]) {
        const [source = "", target = "", mode] = str(mount).split(":");
        expect(target, `${name}: ${str(mount)}`).toMatch(/^\//);
        if (source.startsWith("./")) {
          expect(mode, `${name}: bind mounts are read-only`).toBe("ro");
          expect(existsSync(path.join(ROOT, source)), `${name}: ${source} exists`).toBe(true);
        } else {
          expect(source, `${name}: ${str(mount)} uses a named volume`).toMatch(/^[a-z][a-z0-9_-]*$/);
          expect(Object.keys(volumes), `volume ${source} is declared`).toContain(source);
          used.add(source);
        }
      }
    }
    expect([...used].sort()).toEqual(Object.keys(volumes).sort());
    for (const store of ["postgres", "redis", "prometheus", "grafana"]) {
      expect((service(store).volumes as Yaml[]).some((m) => !str(m).startsWith("./")), `${store} keeps its data in a volume`).toBe(true);
    }
  });

  it("gives Prometheus our config, rules and the metrics token as a secret, and Grafana its provisioning", () => {
    const prom = service("prometheus");
    const mounts = (prom.volumes as Yaml[]).map(String);
    expect(mounts).toContain("./monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro");
    expect(mounts).toContain("./monitoring/alerts.yml:/etc/prometheus/alerts.yml:ro");
    // prometheus.yml reads `credentials_file: secrets/metrics-token` relative to itself.
    expect(read("monitoring/prometheus.yml")).toMatch(/credentials_file:\s*secrets\/metrics-token/);
    const secrets = prom.secrets as Yaml[];
    expect(secrets).toContainEqual({ source: "metrics_token", target: "/etc/prometheus/secrets/metrics-token" });
    expect(mapAt(compose.secrets, "secrets").metrics_token).toEqual({ environment: "METRICS_TOKEN" });
    // Every app replica is a scrape target.
    expect(read("monitoring/prometheus.yml")).toMatch(/litstatus-web:3000[\s\S]*litstatus-web-2:3000/);

    const grafanaMounts = (service("grafana").volumes as Yaml[]).map(String);
    expect(grafanaMounts).toContain("./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro");
    const datasources = mapAt(parseYamlSubset(read("monitoring/grafana/provisioning/datasources/prometheus.yml")), "datasources file");
    expect(datasources.apiVersion).toBe(1);
    // The dashboard's `datasource` variable picks the default data source of type prometheus.
    expect(datasources.datasources).toEqual([expect.objectContaining({ type: "prometheus", url: "http://prometheus:9090", isDefault: true })]);
    const providers = mapAt(parseYamlSubset(read("monitoring/grafana/provisioning/dashboards/litstatus.yml")), "dashboards file");
    const provider = mapAt((providers.providers as Yaml[])[0], "dashboard provider");
    expect(provider.type).toBe("file");
    const dashboardPath = str(mapAt(provider.options, "provider options").path);
    expect(grafanaMounts).toContain(`./monitoring/grafana/dashboard.json:${dashboardPath}/litstatus.json:ro`);
  });

  it("runs the proxy on deploy/nginx.conf, rendered with every placeholder it has, in front of both replicas", () => {
    const proxy = service("proxy");
    const mounts = (proxy.volumes as Yaml[]).map(String);
    // The image renders /etc/nginx/templates/<name>.template into NGINX_ENVSUBST_OUTPUT_DIR/<name>.
    expect(mounts).toContain("./deploy/nginx.conf:/etc/nginx/templates/nginx.conf.template:ro");
    const env = mapAt(proxy.environment, "proxy environment");
    expect(env.NGINX_ENVSUBST_OUTPUT_DIR).toBe("/etc/nginx");
    const placeholders = [...new Set([...read("deploy/nginx.conf").matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]!))];
    expect(placeholders.length).toBeGreaterThan(0);
    // Only the template's own variables are substituted, so nginx's $variables survive.
    const filter = new RegExp(str(env.NGINX_ENVSUBST_FILTER));
    for (const name of placeholders) {
      expect(Object.keys(env), `proxy sets ${name}`).toContain(name);
      expect(filter.test(name), `NGINX_ENVSUBST_FILTER passes ${name}`).toBe(true);
    }
    expect(filter.test("host") || filter.test("remote_addr") || filter.test("request_id")).toBe(false);
    const upstreams = Object.entries(env).filter(([k]) => /UPSTREAM/.test(k)).map(([, v]) => str(v));
    expect(upstreams.sort()).toEqual(["litstatus-web-2:3000", "litstatus-web:3000"]);
    // The error page directory holds the mounted 502.html.
    const pages = Object.entries(env).find(([k]) => /ERROR_PAGES/.test(k))?.[1];
    if (pages !== undefined) expect(mounts).toContain(`./deploy/502.html:${str(pages)}/502.html:ro`);
  });

  it("runs retention daily with CRON_SECRET through POST /api/cron/retention", () => {
    const job = service("retention");
    const script = JSON.stringify(job.command);
    expect(script).toMatch(/-X POST/);
    expect(script).toMatch(/\/api\/cron\/retention/);
    expect(script).toMatch(/Authorization: Bearer \$\$CRON_SECRET/);
    const env = mapAt(job.environment, "retention environment");
    expect(interpolated(str(env.CRON_SECRET))).toEqual(["CRON_SECRET"]);
    expect(str(env.RETENTION_INTERVAL_SECONDS)).toMatch(/:-86400\}$/);
  });

  it("documents in .env.example every variable the app is given and every ${VAR} the file reads", () => {
    const documented = documentedVariables(read(".env.example"));
    const appEnv = Object.keys(mapAt(service("litstatus-web").environment, "litstatus-web environment"));
    const operator = [...new Set(interpolated(composeText))];
    const missing = [...new Set([...appEnv, ...operator])].filter((name) => !documented.has(name)).sort();
    expect(missing, `add to .env.example: ${missing.join(", ")}`).toEqual([]);
  });
});
