// The frame around every page: skip link, header with navigation, language, live state and logout.
// New sections (bots, backtests) are one entry in NAV and one case in App.
import { useEffect, useRef, type ReactNode } from "react";
import { useAuth } from "../auth/AuthContext";
import type { MessageKey } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";
import { hrefFor, type Route } from "../lib/router";
import { LanguageSelect } from "./LanguageSelect";
import { LiveIndicator } from "./LiveIndicator";

const NAV: readonly { route: Route; label: MessageKey }[] = [
  { route: "connections", label: "nav.connections" },
  { route: "bots", label: "bots.nav" },
  { route: "portfolio", label: "nav.portfolio" },
  { route: "audit", label: "nav.audit" },
  { route: "backtests", label: "nav.backtests" },
];

export function Layout({ route, children }: { route: Route; children: ReactNode }) {
  const { t } = useI18n();
  const { state, logout } = useAuth();
  const main = useRef<HTMLElement>(null);
  const firstRoute = useRef(true);

  // After navigating, start at the new page's heading (as a full page load would).
  useEffect(() => {
    if (firstRoute.current) {
      firstRoute.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>("h1")?.focus();
  }, [route]);

  const tokenName = state.phase === "signed-in" ? state.me.token_name : "";

  return (
    <div className="app">
      <a className="skip-link" href="#main" onClick={(e) => {
        // A hash link would change the route; move focus to the content instead.
        e.preventDefault();
        main.current?.focus();
      }}>
        {t("layout.skip")}
      </a>
      <header className="topbar">
        <span className="brand">
          <span aria-hidden="true" className="brand-mark">◆</span> {t("app.name")}
        </span>
        <nav aria-label={t("layout.nav")} className="nav">
          <ul>
            {NAV.map((item) => (
              <li key={item.route}>
                <a
                  href={hrefFor(item.route)}
                  aria-current={route === item.route ? "page" : undefined}
                  data-testid={`nav-${item.route}`}
                >
                  {t(item.label)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-tools">
          <LiveIndicator />
          <LanguageSelect />
          <span className="who" data-testid="signed-in-as" title={t("layout.signedInAs", { name: tokenName })}>
            {/* On a laptop only the token's name shows (the header stays on one line in every language);
                the full sentence is still read out, and shown on narrow screens. */}
            <span className="who-full">{t("layout.signedInAs", { name: tokenName })}</span>
            <span className="who-short" aria-hidden="true">
              {tokenName}
            </span>
          </span>
          <button type="button" className="button button-small" onClick={() => void logout()} data-testid="logout-button">
            {t("layout.logout")}
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1} className="content">
        {children}
      </main>
    </div>
  );
}
