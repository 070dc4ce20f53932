import type { Metadata } from "next";
import { openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { When } from "@/components/admin/console-ui";
import { DataTable } from "@/components/admin/data-table";
import { AdminAction } from "@/components/admin/operations/admin-action";
import { BreakerControls } from "@/components/admin/operations/breaker-controls";
import { listInflight, readBreaker, readCacheStats, type CacheCounts } from "@/lib/admin/operations";
import { retentionPolicy } from "@/lib/retention";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Operations" };

const percent = (c: CacheCounts) => (c.hitRate === null ? "–" : `${(c.hitRate * 100).toFixed(1)} %`);

const BREAKER_TEXT: Record<string, string> = {
  closed: "Closed: generations call the model.",
  open: "Open: generations are refused (503) without calling the model.",
  "half-open": "Half-open: the next generation is the probe that decides.",
};

export default async function OperationsPage({ params }: Pick<ConsolePageProps, "params">) {
  const { isAdmin } = await openConsolePage(params);
  const [breaker, cache, inflight] = await Promise.all([readBreaker(), readCacheStats(), listInflight()]);
  const policy = retentionPolicy();

  return (
    <>
      <h1>Operations</h1>
      <p className="muted">The model&apos;s circuit breaker, the caption cache, the generations in flight and data retention, shared by every instance.</p>

      <section className="card stack" aria-labelledby="ops-breaker" data-testid="ops-breaker">
        <h2 id="ops-breaker">Circuit breaker</h2>
        <dl className="facts ops-facts">
          <div>
            <dt>State</dt>
            <dd>
              <span className={`badge ops-state-${breaker.state}`} data-testid="breaker-state">
                {breaker.state}
              </span>{" "}
              <span className="muted small">{BREAKER_TEXT[breaker.state]}</span>
            </dd>
          </div>
          <div>
            <dt>Failures</dt>
            <dd>
              {breaker.failures} of {breaker.threshold} (opens at {breaker.threshold})
            </dd>
          </div>
          <div>
            <dt>Open until</dt>
            <dd>{breaker.openUntil ? <When iso={breaker.openUntil} /> : <span className="muted">–</span>}</dd>
          </div>
          <div>
            <dt>Cooldown</dt>
            <dd>{Math.round(breaker.cooldownMs / 1000)} s</dd>
          </div>
        </dl>
        {isAdmin ? <BreakerControls /> : null}
      </section>

      <section className="card stack" aria-labelledby="ops-cache" data-testid="ops-cache">
        <h2 id="ops-cache">Caption cache</h2>
        <dl className="facts ops-facts">
          <div>
            <dt>Cached captions</dt>
            <dd data-testid="cache-keys">{cache.keys}</dd>
          </div>
          <div>
            <dt>Hit rate today (UTC)</dt>
            <dd>
              {percent(cache.today)}{" "}
              <span className="muted small">
                ({cache.today.hits} hits, {cache.today.misses} misses)
              </span>
            </dd>
          </div>
          <div>
            <dt>Hit rate, last 7 days</dt>
            <dd>
              {percent(cache.last7Days)}{" "}
              <span className="muted small">
                ({cache.last7Days.hits} hits, {cache.last7Days.misses} misses)
              </span>
            </dd>
          </div>
        </dl>
        <p className="muted small">
          Counted by the admission step of every generation that looks in the cache (not regenerations, not requests refused by an open breaker).
        </p>
        {isAdmin ? (
          <AdminAction
            label="Flush cache"
            method="DELETE"
            url="/api/admin/cache"
            confirm="Delete every cached caption? Quotas, leases and the blocklist are kept."
            danger
            summary="cache-flush"
            testId="cache-flush"
          />
        ) : null}
      </section>

      <section className="card stack" aria-labelledby="ops-inflight" data-testid="ops-inflight">
        <div className="section-head">
          <h2 id="ops-inflight">Generations in flight</h2>
          <p className="muted small">
            {inflight.count} of {inflight.capacity} slots held
          </p>
        </div>
        <DataTable
          rows={inflight.items}
          rowKey={(l) => l.holder}
          empty="Nothing is in flight."
          columns={[
            { header: "Instance", rowHeader: true, className: "nowrap", cell: (l) => l.instance },
            { header: "Holder", className: "break small", cell: (l) => l.holder },
            { header: "Since", className: "nowrap", cell: (l) => <When iso={l.since} /> },
            { header: "Expires", className: "nowrap", cell: (l) => <When iso={l.expires} /> },
          ]}
        />
      </section>

      <section className="card stack" aria-labelledby="ops-retention" data-testid="ops-retention">
        <h2 id="ops-retention">Data retention</h2>
        <ul className="bullets">
          <li>Security events: {policy.security_events} days</li>
          <li>Funnel events: {policy.funnel_events} days</li>
          <li>Guests&apos; generations: {policy.generations} days</li>
          <li>Generations pending for over 10 minutes are marked failed.</li>
        </ul>
        <p className="muted small">
          Also runs as <code>npm run retention</code> and <code>POST /api/cron/retention</code> (bearer <code>CRON_SECRET</code>).
        </p>
        {isAdmin ? (
          <AdminAction
            label="Run retention"
            method="POST"
            url="/api/admin/retention"
            confirm="Delete the rows past their retention now?"
            danger
            summary="retention"
            testId="retention-run"
          />
        ) : null}
      </section>
    </>
  );
}
