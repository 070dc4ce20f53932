"use client";

import { useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { SIGNED_IN_FLAG, withoutSignedInFlag } from "./signed-in-flag";

interface Props {
  /** "You're signed in as …", already in the page's language. */
  message: string;
  dismissLabel: string;
}

/**
 * The confirmation after a sign-in link lands: shown while the flag is in the first address the
 * page rendered with, until dismissed. The flag leaves the address at once, so a reload or a
 * shared link does not repeat it.
 */
export function SignedInToast({ message, dismissLabel }: Props) {
  const params = useSearchParams();
  const [shown, setShown] = useState(() => params.get(SIGNED_IN_FLAG) === "1");

  useEffect(() => {
    if (!new URLSearchParams(window.location.search).has(SIGNED_IN_FLAG)) return;
    window.history.replaceState(window.history.state, "", withoutSignedInFlag(window.location.href));
  }, []);

  if (!shown) return null;
  return (
    <div className="toast" role="status" data-testid="signed-in-toast">
      <p>{message}</p>
      <button type="button" className="btn btn-sm toast-close" onClick={() => setShown(false)}>
        {dismissLabel}
      </button>
    </div>
  );
}
