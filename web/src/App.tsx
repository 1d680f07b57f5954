// The app: language, announcements and auth around either the login page or the signed-in layout.
import { AuthProvider, useAuth } from "./auth/AuthContext";
import { LoginPage } from "./auth/LoginPage";
import { AuditPage } from "./audit/AuditPage";
import { BacktestsPage } from "./backtests/BacktestsPage";
import { BotsPage } from "./bots/BotsPage";
import { AnnouncerProvider } from "./components/Announcer";
import { ConnectionsPage } from "./connections/ConnectionsPage";
import { I18nProvider, useI18n } from "./i18n/I18nContext";
import { Layout } from "./layout/Layout";
import { useRoute, type Route } from "./lib/router";
import { LiveProvider } from "./live/LiveContext";
import { PortfolioPage } from "./portfolio/PortfolioPage";

function Page({ route }: { route: Route }) {
  switch (route) {
    case "connections":
      return <ConnectionsPage />;
    case "portfolio":
      return <PortfolioPage />;
    case "audit":
      return <AuditPage />;
    case "backtests":
      return <BacktestsPage />;
    case "bots":
      return <BotsPage />;
  }
}

function Shell() {
  const { t } = useI18n();
  const { state } = useAuth();
  const route = useRoute();
  if (state.phase === "checking") {
    return (
      <p className="boot" role="status">
        {t("common.loading")}
      </p>
    );
  }
  if (state.phase === "anonymous") return <LoginPage expired={state.expired} />;
  // The stream lives only while signed in: logging out unmounts it and closes the socket.
  return (
    <LiveProvider>
      <Layout route={route}>
        <Page route={route} />
      </Layout>
    </LiveProvider>
  );
}

export function App() {
  return (
    <I18nProvider>
      <AnnouncerProvider>
        <AuthProvider>
          <Shell />
        </AuthProvider>
      </AnnouncerProvider>
    </I18nProvider>
  );
}
