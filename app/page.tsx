import { Suspense } from "react";
import { FlowscopeApp } from "../components/FlowscopeApp";

export default function Page() {
  // useSearchParams needs a Suspense boundary for the static shell.
  return (
    <Suspense fallback={<div className="boot">Loading Flowscope…</div>}>
      <FlowscopeApp />
    </Suspense>
  );
}
