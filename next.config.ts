import type { NextConfig } from "next";

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // `npm test` type-checks the whole project with tsc first; Next's own pass would re-check server code.
  typescript: { ignoreBuildErrors: true },
  // The server (server/) is run by tsx, not bundled by Next; keep its native modules out of the bundle.
  serverExternalPackages: ["better-sqlite3", "re2", "@prisma/client"],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "no-referrer" },
          { key: "X-Frame-Options", value: "DENY" },
        ],
      },
    ];
  },
};

export default config;
