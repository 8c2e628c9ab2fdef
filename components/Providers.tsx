"use client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { isUnauthorized } from "../lib/ui/api";
import { TokenGate } from "./TokenGate";

export function Providers({ children }: { children: ReactNode }) {
  // One client per browser tab; created in state so server rendering never shares a cache.
  const [client] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          // a refused token stays refused: ask for one (TokenGate) rather than retry
          queries: { refetchOnWindowFocus: false, retry: (failures, err) => !isUnauthorized(err) && failures < 1, staleTime: 10_000 },
        },
      }),
  );
  return (
    <QueryClientProvider client={client}>
      <TokenGate>{children}</TokenGate>
    </QueryClientProvider>
  );
}
