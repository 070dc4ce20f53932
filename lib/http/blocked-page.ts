/**
 * The page a blocklisted address gets instead of any page of the site (403, PRODUCT §6: the
 * blocklist is enforced on every route). API routes answer the `ip_blocked` envelope instead
 * (lib/http/policy.ts). Both languages on one page, the visitor's first: the address may be
 * shared (an office, a carrier's NAT), so it says what happened and when it ends, and blames
 * nobody.
 */
export function blockedPageHtml(lang: "en" | "zh", retryAfterSeconds: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  const en = `<section lang="en">
  <h1>Access from your network is paused</h1>
  <p>Requests from your network address are blocked for now, for about ${formatDuration(minutes, "en")}.
     If you share this connection (at work, school or on mobile data), someone else's traffic may have caused it.</p>
</section>`;
  const zh = `<section lang="zh">
  <h1>你所在网络的访问已暂停</h1>
  <p>来自你的网络地址的请求暂时被阻止，大约 ${formatDuration(minutes, "zh")}后恢复。
     如果你与他人共用这个网络（公司、学校或移动数据），可能是别人的流量触发了它。</p>
</section>`;
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${lang === "zh" ? "访问已暂停 · LitStatus" : "Access paused · LitStatus"}</title>
<style>
  :root { color-scheme: light dark; --bg: #fbfaf8; --fg: #17181c; --muted: #5a5f6b; --card: #ffffff; --line: #e6e2dc; }
  @media (prefers-color-scheme: dark) { :root { --bg: #111216; --fg: #f1efeb; --muted: #a3a7b1; --card: #1a1c22; --line: #2a2d35; } }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 24px; background: var(--bg); color: var(--fg);
         font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "PingFang SC", "Microsoft YaHei", sans-serif; }
  main { max-width: 32rem; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 16px; padding: 32px; }
  .brand { font-weight: 700; margin: 0 0 20px; }
  h1 { font-size: 1.35rem; line-height: 1.3; margin: 0 0 8px; }
  p { margin: 0 0 12px; color: var(--muted); }
  hr { border: 0; border-top: 1px solid var(--line); margin: 20px 0; }
</style>
</head>
<body>
<main>
  <p class="brand">🔥 LitStatus</p>
  ${lang === "zh" ? zh : en}
  <hr>
  ${lang === "zh" ? en : zh}
</main>
</body>
</html>
`;
}

/** "5 minutes", "3 hours", "2 days" (rounded up to the unit), or the same in Chinese. */
function formatDuration(minutes: number, lang: "en" | "zh"): string {
  const [amount, unit] = minutes < 120 ? [minutes, 0] : minutes < 48 * 60 ? [Math.ceil(minutes / 60), 1] : [Math.ceil(minutes / 1440), 2];
  if (lang === "zh") return `${amount} ${["分钟", "小时", "天"][unit]}`;
  const name = ["minute", "hour", "day"][unit]!;
  return `${amount} ${name}${amount === 1 ? "" : "s"}`;
}
