"use client";

import { useEffect, useRef } from "react";

/**
 * Focus follows a two-step confirm, so keyboard and screen-reader users keep their place: onto
 * Cancel when the confirm opens, back onto the button that opened it when it closes.
 */
export function useConfirmFocus(confirming: boolean) {
  const trigger = useRef<HTMLButtonElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);

  useEffect(() => {
    if (confirming) cancel.current?.focus();
    else if (wasConfirming.current) trigger.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  /** Call before closing when the trigger goes away with what was confirmed: focus stays put. */
  const skipReturn = () => {
    wasConfirming.current = false;
  };
  return { trigger, cancel, skipReturn };
}
