/**
 * The funnel chart (a client component) renders on the server without throwing, and says what it
 * shows to assistive technology in one summary.
 */
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { FunnelChart } from "@/components/admin/insights/funnel-chart";

describe("FunnelChart", () => {
  it("renders its summary as an image label, with or without data", () => {
    const stages = [
      { event: "page_view", count: 6, uniqueUsers: 3, uniqueSessions: 5 },
      { event: "generate_success", count: 3, uniqueUsers: 2, uniqueSessions: 0 },
    ];
    const html = renderToString(createElement(FunnelChart, { stages, summary: "Funnel over the last 7 days: page_view 6 events." }));
    expect(html).toContain('role="img"');
    expect(html).toContain('aria-label="Funnel over the last 7 days: page_view 6 events."');
    expect(renderToString(createElement(FunnelChart, { stages: [], summary: "no events" }))).toContain('aria-label="no events"');
  });
});
