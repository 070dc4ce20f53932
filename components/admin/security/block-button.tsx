"use client";

import { useState } from "react";
import { BlockForm } from "./block-form";

/** One-click "Block" next to an address: opens a small reason + duration form in place (admins only). */
export function BlockButton({ ip }: { ip: string }) {
  const [open, setOpen] = useState(false);
  if (!open) {
    return (
      <button type="button" className="btn btn-sm btn-danger" onClick={() => setOpen(true)} aria-label={`Block ${ip}`}>
        Block
      </button>
    );
  }
  return <BlockForm target={ip} submitLabel={`Block ${ip}`} onCancel={() => setOpen(false)} />;
}
