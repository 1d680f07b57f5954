// A ValidationError in the current language (field labels inside messages translated too).
import { useCallback } from "react";
import type { Params } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";
import type { ValidationError } from "./validation";

export function useValidationText(): (error: ValidationError | undefined | null) => string | null {
  const { t } = useI18n();
  return useCallback(
    (error) => {
      if (!error) return null;
      const params: Params = { ...error.params };
      for (const [name, key] of Object.entries(error.paramKeys ?? {})) params[name] = t(key);
      return t(error.key, params);
    },
    [t],
  );
}
