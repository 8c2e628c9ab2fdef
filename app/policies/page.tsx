import { Suspense } from "react";
import { PoliciesView } from "../../components/PoliciesView";

export const metadata = { title: "Policies · Flowscope" };

export default function PoliciesPage() {
  return (
    <Suspense fallback={<div className="boot">Loading policies…</div>}>
      <PoliciesView />
    </Suspense>
  );
}
