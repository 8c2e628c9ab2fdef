// The brand and page links shared by every page's top bar.
import Link from "next/link";
import { ForgetTokenButton } from "./TokenGate";

export type Page = "flows" | "policies" | "endpoints";

const PAGES: { page: Page; href: string; label: string }[] = [
  { page: "flows", href: "/", label: "Flows" },
  { page: "policies", href: "/policies", label: "Policies" },
  { page: "endpoints", href: "/endpoints", label: "Endpoints" },
];

export function TopNav({ active }: { active: Page }) {
  return (
    <>
      <Link href="/" className="brand" aria-label="Flowscope home" title="Flowscope">
        <span className="logo" aria-hidden>
          ◉
        </span>
        {/* on a narrow top bar only the logo shows; the link keeps its name and tooltip */}
        <span className="brand-name">Flowscope</span>
      </Link>
      <nav className="nav">
        {PAGES.map((p) => (
          <Link key={p.page} href={p.href} className={p.page === active ? "nav-link active" : "nav-link"}>
            {p.label}
          </Link>
        ))}
      </nav>
      <ForgetTokenButton />
    </>
  );
}
