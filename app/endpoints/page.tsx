import { Suspense } from "react";
import { EndpointView } from "../../components/EndpointView";

export const metadata = { title: "Endpoint · Flowscope" };

export default function EndpointsPage() {
  return (
    <Suspense fallback={<div className="boot">Loading endpoint…</div>}>
      <EndpointView />
    </Suspense>
  );
}
