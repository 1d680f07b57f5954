// A tiny hash router: "#/connections", "#/portfolio", "#/audit". Hash routes need nothing from the
// server (which serves static files only), and a reload lands on the same page.
import { useEffect, useState } from "react";

export type Route = "connections" | "portfolio" | "audit" | "backtests" | "bots";
export const ROUTES: readonly Route[] = ["connections", "portfolio", "audit", "backtests", "bots"];
export const DEFAULT_ROUTE: Route = "connections";

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, "").split(/[/?]/)[0] ?? "";
  return (ROUTES as readonly string[]).includes(path) ? (path as Route) : DEFAULT_ROUTE;
}

export function hrefFor(route: Route): string {
  return `#/${route}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
