"use client";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";
import { parseView, viewHref, type ViewState } from "../lib/ui/view-state";

/** The view as the URL says it; `setView` writes the URL (push for filters, replace for selections). */
export function useView(): [ViewState, (v: ViewState, mode?: "push" | "replace") => void] {
  const params = useSearchParams();
  const router = useRouter();
  const path = usePathname();
  const key = params.toString();
  const view = useMemo(() => parseView(new URLSearchParams(key)), [key]);
  const setView = useCallback(
    (v: ViewState, mode: "push" | "replace" = "push") => {
      const href = viewHref(v, path);
      if (mode === "push") router.push(href, { scroll: false });
      else router.replace(href, { scroll: false });
    },
    [router, path],
  );
  return [view, setView];
}
