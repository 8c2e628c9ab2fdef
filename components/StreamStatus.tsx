"use client";
import type { FlowFeed } from "./useFlowFeed";

const LABELS: Record<FlowFeed["state"], string> = {
  loading: "Loading history…",
  connecting: "Connecting…",
  live: "Live",
  paused: "Paused",
  reconnecting: "Reconnecting…",
  closed: "Disconnected",
  history: "History",
  error: "Error",
};

function fmtRate(r: number): string {
  if (r >= 1000) return `${(r / 1000).toFixed(1)}K`;
  return r >= 10 ? String(Math.round(r)) : r.toFixed(1);
}

export function StreamStatus({ feed }: { feed: FlowFeed }) {
  const s = feed.state;
  const tone = s === "live" ? "ok" : s === "paused" || s === "history" || s === "loading" ? "idle" : s === "connecting" ? "idle" : "bad";
  const rate = s === "live" || s === "paused" ? `${fmtRate(feed.rate)} flows/s` : undefined;
  // The rate is also in the tooltip: a narrow top bar hides it to keep to one row.
  const title = [rate ? `${LABELS[s]}, ${rate}` : "", feed.error ?? feed.stateDetail ?? ""].filter(Boolean).join("\n");
  return (
    <div className={`stream-status tone-${tone}`} data-testid="stream-status" data-state={s} title={title} role="status">
      <span className="dot" aria-hidden />
      <span>{LABELS[s]}</span>
      {rate ? <span className="muted stream-rate">{rate}</span> : null}
      {feed.lost > 0 ? <span className="warn" title="the server dropped flows for this client">{feed.lost} lost</span> : null}
    </div>
  );
}
