"use client";

import { useEffect } from "react";
import { usePathname } from "@/i18n/navigation";
import { track } from "@/lib/ui/track";

/** One `page_view` per page the visitor sees (client navigations included). */
export function PageView() {
  const pathname = usePathname();
  useEffect(() => {
    track("page_view");
  }, [pathname]);
  return null;
}
