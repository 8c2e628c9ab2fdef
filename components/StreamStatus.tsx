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
  return (
    <div className={`stream-status tone-${tone}`} data-testid="stream-status" data-state={s} title={feed.error ?? feed.stateDetail ?? ""} role="status">
      <span className="dot" aria-hidden />
      <span>{LABELS[s]}</span>
      {s === "live" || s === "paused" ? <span className="muted">{fmtRate(feed.rate)} flows/s</span> : null}
      {feed.lost > 0 ? <span className="warn" title="the server dropped flows for this client">{feed.lost} lost</span> : null}
    </div>
  );
}
