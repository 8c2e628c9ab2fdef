// A popover's open state that closes on a click anywhere outside its element, and on Escape (focus
// then goes back into the popover's own element, to the button that opened it).
import { useEffect, useRef, useState } from "react";

export function useDismissable<T extends HTMLElement = HTMLDivElement>() {
  const [open, setOpen] = useState(false);
  const ref = useRef<T>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    const escape = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      // handled here: the table's own Escape (clear the selection) must not also run
      e.stopPropagation();
      setOpen(false);
      ref.current?.querySelector<HTMLElement>("button")?.focus();
    };
    document.addEventListener("mousedown", close);
    document.addEventListener("keydown", escape, true);
    return () => {
      document.removeEventListener("mousedown", close);
      document.removeEventListener("keydown", escape, true);
    };
  }, [open]);
  return { open, setOpen, ref };
}
