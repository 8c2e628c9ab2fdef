import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { Providers } from "../components/Providers";
import "./globals.css";

export const metadata: Metadata = {
  title: "Flowscope",
  description: "Network flows in a Cilium cluster and the policy that decided each one",
  icons: { icon: [{ url: "/favicon.svg", type: "image/svg+xml" }, { url: "/favicon.ico", sizes: "32x32" }] },
};

export const viewport: Viewport = { colorScheme: "dark light", themeColor: "#0f1419" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* applies the saved theme before first paint, so there is no light/dark flash */}
        <script src="/theme-boot.js" />
      </head>
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
