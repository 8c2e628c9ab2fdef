"use client";
import type { PoliciesResponse } from "../lib/api-types";

type Warning = PoliciesResponse["warnings"][number];

/** Policy documents that did not load, each with its file (unless `hideSource`), document, line and field. */
export function PolicyWarnings({ list, title, hideSource = false }: { list: Warning[]; title: string; hideSource?: boolean }) {
  if (!list.length) return null;
  return (
    <div className="warnings" role="alert">
      <strong>
        {list.length} {title}
      </strong>
      <ul className="plain">
        {list.map((w, i) => (
          <li key={i}>
            <code>
              {hideSource ? "" : `${w.source} `}
              {[w.document !== undefined ? `doc ${w.document}` : "", w.line !== undefined ? `line ${w.line}` : "", w.path ?? ""].filter(Boolean).join(" · ")}
            </code>
            : {w.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
