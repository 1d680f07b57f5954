// Sign in with an API token. The token goes straight from the input to POST /auth/login and the
// input is emptied at once: the page keeps only the session cookie the server sets.
import { useRef, useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { SecretField } from "../components/Field";
import { useI18n } from "../i18n/I18nContext";
import { LanguageSelect } from "../layout/LanguageSelect";
import { useAuth } from "./AuthContext";

export function LoginPage({ expired }: { expired: boolean }) {
  const { t } = useI18n();
  const { login } = useAuth();
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const field = input.current;
    const token = field?.value.trim() ?? "";
    if (field) field.value = "";
    if (!token) {
      setError(t("login.error.empty"));
      field?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(token);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 429) setError(t("login.error.limited"));
      else if (caught instanceof ApiError && caught.status === 401) setError(t("login.error.invalid"));
      else if (caught instanceof ApiError && caught.code === "network") setError(t("common.error.network"));
      else setError(t("common.error.server", { message: caught instanceof Error ? caught.message : "" }));
      setBusy(false);
      input.current?.focus();
    }
  };

  return (
    <main className="login" id="main">
      <div className="login-card card">
        <div className="login-top">
          <p className="brand">
            <span aria-hidden="true" className="brand-mark">◆</span> {t("app.name")}
          </p>
          <LanguageSelect />
        </div>
        <h1>{t("login.title")}</h1>
        <p className="page-intro">{t("login.intro")}</p>
        {expired ? (
          <p className="note" role="status" data-testid="login-expired">
            {t("common.error.session")}
          </p>
        ) : null}
        <form onSubmit={(e) => void submit(e)} noValidate>
          <SecretField
            name="token"
            label={t("login.token")}
            masked
            error={error}
            onValue={() => undefined}
            inputRef={input}
            testId="login-token"
          />
          <button type="submit" className="button button-primary" disabled={busy} data-testid="login-submit">
            {busy ? t("login.submitting") : t("login.submit")}
          </button>
        </form>
      </div>
    </main>
  );
}
