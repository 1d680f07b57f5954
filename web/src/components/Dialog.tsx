// A modal dialog: focus moves in and is trapped, Escape closes, the page behind is inert, and focus
// returns to whatever opened it.
import { useEffect, useId, useRef, type ReactNode } from "react";
import { createPortal } from "react-dom";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), ' +
  'textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

/** Inside a closed <details>, only its <summary> can take focus. */
function hiddenInDetails(el: HTMLElement): boolean {
  const details = el.closest("details");
  if (!details || details.open) return false;
  return !(el.tagName === "SUMMARY" && el.parentElement === details);
}

function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (el) => !el.closest("[inert]") && !el.closest("[hidden]") && !hiddenInDetails(el),
  );
}

export interface DialogProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId: string;
  /** Role "alertdialog" for confirmations that interrupt. */
  alert?: boolean;
  wide?: boolean;
  /** Where focus goes first (default: the first focusable element). */
  initialFocus?: React.RefObject<HTMLElement | null>;
  describedBy?: string;
}

export function Dialog({ title, onClose, children, testId, alert, wide, initialFocus, describedBy }: DialogProps) {
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);
  const closeRef = useRef(onClose);
  useEffect(() => {
    closeRef.current = onClose;
  });

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const app = document.getElementById("root");
    app?.setAttribute("inert", "");
    const root = panel.current;
    if (root) (initialFocus?.current ?? focusables(root)[0] ?? root).focus();
    return () => {
      app?.removeAttribute("inert");
      // Back to the opener if it still exists (a removed connection's button does not).
      if (opener && opener.isConnected) opener.focus();
    };
    // Once per opening: initialFocus is read at mount only, by design.
  }, []); // deliberately no dependencies

  const onKeyDown = (event: React.KeyboardEvent<HTMLDivElement>) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      closeRef.current();
      return;
    }
    if (event.key !== "Tab" || !panel.current) return;
    const items = focusables(panel.current);
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) {
      event.preventDefault();
      return;
    }
    const active = document.activeElement;
    if (event.shiftKey && (active === first || !panel.current.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !panel.current.contains(active))) {
      event.preventDefault();
      first.focus();
    }
  };

  return createPortal(
    <div className="dialog-backdrop">
      <div
        ref={panel}
        className={wide ? "dialog dialog-wide" : "dialog"}
        role={alert ? "alertdialog" : "dialog"}
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={describedBy}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        data-testid={testId}
      >
        <h2 id={titleId} className="dialog-title">
          {title}
        </h2>
        {children}
      </div>
    </div>,
    document.body,
  );
}
