// Who is signed in. The session itself is an httpOnly cookie the page cannot read; what the page keeps
// is the CSRF token (in memory only) and the token's name and scope for display.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError, setCsrfToken, setUnauthorizedHandler } from "../api/client";
import { api } from "../api/endpoints";
import type { Me } from "../api/types";
import { readSessionHint, writeSessionHint } from "./sessionHint";

export type AuthState =
  | { phase: "checking" }
  | { phase: "anonymous"; expired: boolean }
  | { phase: "signed-in"; me: Me };

interface Auth {
  state: AuthState;
  login: (token: string) => Promise<void>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>(() =>
    readSessionHint() ? { phase: "checking" } : { phase: "anonymous", expired: false },
  );

  const signedIn = useCallback((me: Me) => {
    setCsrfToken(me.csrf_token);
    writeSessionHint(true);
    setState({ phase: "signed-in", me });
  }, []);

  const signedOut = useCallback((expired: boolean) => {
    setCsrfToken(null);
    writeSessionHint(false);
    setState({ phase: "anonymous", expired });
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => signedOut(true));
    return () => setUnauthorizedHandler(null);
  }, [signedOut]);

  useEffect(() => {
    if (!readSessionHint()) return;
    // After a reload the cookie may still be valid: /auth/me hands back the CSRF token.
    let cancelled = false;
    api
      .me()
      .then((me) => !cancelled && signedIn(me))
      .catch(() => !cancelled && signedOut(false));
    return () => {
      cancelled = true;
    };
  }, [signedIn, signedOut]);

  const login = useCallback(async (token: string) => signedIn(await api.login(token)), [signedIn]);

  const logout = useCallback(async () => {
    // The signed-in pages go first (their timers and the live stream with them): a reload one of them
    // started while the server ends the session came back 401, an error in the browser's console.
    setState({ phase: "checking" });
    try {
      await api.logout();
    } catch (error) {
      // Already logged out on the server (401) is fine; anything else still ends the page's session.
      if (!(error instanceof ApiError)) throw error;
    } finally {
      signedOut(false);
    }
  }, [signedOut]);

  const value = useMemo(() => ({ state, login, logout }), [state, login, logout]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}
