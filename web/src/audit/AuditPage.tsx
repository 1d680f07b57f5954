// The audit log: filters, a page of events (newest first), paging; page 1 follows the live stream.
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/endpoints";
import type { AuditPage as AuditPageData } from "../api/types";
import { useI18n } from "../i18n/I18nContext";
import { PageHeader } from "../layout/PageHeader";
import { errorText } from "../lib/errors";
import { useStream } from "../live/LiveContext";
import { AuditFilters } from "./AuditFilters";
import { AuditTable } from "./AuditTable";
import { EMPTY_FILTERS, pageCount, toQuery, type AuditFilterValues } from "./filters";

const LIVE_DEBOUNCE_MS = 500;

export function AuditPage() {
  const { t } = useI18n();
  const [filters, setFilters] = useState<AuditFilterValues>(EMPTY_FILTERS);
  const [page, setPage] = useState(1);
  const [data, setData] = useState<AuditPageData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [names, setNames] = useState<string[]>([]);
  const request = useRef(0);
  const liveTimer = useRef<number | undefined>(undefined);

  const load = useCallback(
    async (f: AuditFilterValues, p: number) => {
      const id = ++request.current; // only the newest request may update the page
      try {
        const result = await api.audit(toQuery(f, p));
        if (id !== request.current) return;
        setData(result);
        setError(null);
      } catch (caught) {
        if (id === request.current) setError(errorText(caught, t));
      }
    },
    [t],
  );

  useEffect(() => {
    void load(filters, page);
  }, [filters, page]); // not `load`: a language change must not refetch

  useEffect(() => {
    api.connections().then((list) => setNames(list.map((c) => c.name)), () => setNames([]));
    return () => window.clearTimeout(liveTimer.current);
  }, []);

  // New events arrive on page 1 only (newest first); other pages stay put while being read.
  useStream((message) => {
    if (message.type === "hello" || page !== 1) return;
    window.clearTimeout(liveTimer.current);
    liveTimer.current = window.setTimeout(() => void load(filters, 1), LIVE_DEBOUNCE_MS);
  });

  const pages = data ? pageCount(data.total, data.page_size) : 1;

  return (
    <>
      <PageHeader title={t("audit.title")} intro={t("audit.intro")} />
      <AuditFilters
        initial={filters}
        connectionNames={names}
        onApply={(next) => {
          setFilters(next);
          setPage(1);
        }}
      />
      {error ? (
        <p className="error-text" role="alert" data-testid="audit-error">
          {error}
        </p>
      ) : null}
      {data === null && !error ? <p role="status">{t("common.loading")}</p> : null}
      {data ? (
        <>
          <p className="field-hint" role="status" data-testid="audit-page-info" data-total={data.total} data-page={data.page}>
            {t("audit.pageInfo", { page: data.page, pages, total: data.total })}
          </p>
          {data.items.length === 0 ? (
            <p className="empty" data-testid="audit-empty">
              {t("audit.empty")}
            </p>
          ) : (
            <AuditTable events={data.items} />
          )}
          <nav className="pager button-row" aria-label={t("audit.pagination")}>
            <button
              type="button"
              className="button"
              // aria-disabled, not disabled: the button keeps the focus when it reaches the first page.
              onClick={() => setPage((p) => Math.max(1, p - 1))}
              aria-disabled={page <= 1 || undefined}
              data-testid="audit-prev"
            >
              {t("audit.prev")}
            </button>
            <button
              type="button"
              className="button"
              onClick={() => setPage((p) => Math.min(pages, p + 1))}
              aria-disabled={page >= pages || undefined}
              data-testid="audit-next"
            >
              {t("audit.next")}
            </button>
          </nav>
        </>
      ) : null}
    </>
  );
}
