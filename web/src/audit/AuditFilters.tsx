// The audit filter form: kind, connection name, time range. Applied on submit, not per keystroke.
import { useState, type FormEvent } from "react";
import { SelectField, TextField } from "../components/Field";
import { useI18n } from "../i18n/I18nContext";
import { kindLabel } from "./sentence";
import { AUDIT_KINDS, EMPTY_FILTERS, rangeIsEmpty, type AuditFilterValues } from "./filters";

export interface AuditFiltersProps {
  initial: AuditFilterValues;
  connectionNames: readonly string[];
  onApply: (filters: AuditFilterValues) => void;
}

export function AuditFilters({ initial, connectionNames, onApply }: AuditFiltersProps) {
  const { t } = useI18n();
  const [values, setValues] = useState(initial);
  const [rangeError, setRangeError] = useState(false);
  const set = (key: keyof AuditFilterValues) => (value: string) => setValues((v) => ({ ...v, [key]: value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (rangeIsEmpty(values)) {
      setRangeError(true);
      return;
    }
    setRangeError(false);
    onApply(values);
  };

  const reset = () => {
    setValues(EMPTY_FILTERS);
    setRangeError(false);
    onApply(EMPTY_FILTERS);
  };

  return (
    <form className="filters card" onSubmit={submit} aria-label={t("audit.filters")} data-testid="audit-filters">
      <SelectField
        label={t("audit.kind")}
        value={values.kind}
        onValue={set("kind")}
        options={[{ value: "", label: t("audit.kind.any") }, ...AUDIT_KINDS.map((k) => ({ value: k, label: kindLabel(t, k) }))]}
        testId="audit-filter-kind"
      />
      <TextField
        label={t("audit.connection")}
        value={values.connection}
        onValue={set("connection")}
        list="audit-connection-names"
        autoComplete="off"
        testId="audit-filter-connection"
      />
      <datalist id="audit-connection-names">
        {connectionNames.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <TextField
        label={t("audit.since")}
        type="datetime-local"
        step={1}
        value={values.since}
        onValue={set("since")}
        testId="audit-filter-since"
      />
      <TextField
        label={t("audit.until")}
        type="datetime-local"
        step={1}
        value={values.until}
        onValue={set("until")}
        error={rangeError ? t("audit.untilBeforeSince") : null}
        testId="audit-filter-until"
      />
      <div className="button-row filters-actions">
        <button type="submit" className="button button-primary" data-testid="audit-filter-apply">
          {t("audit.apply")}
        </button>
        <button type="button" className="button button-quiet" onClick={reset} data-testid="audit-filter-reset">
          {t("audit.reset")}
        </button>
      </div>
    </form>
  );
}
