// Step 2: how to create a least-privilege key on this exchange (the server's guide, in its words),
// and the address to whitelist, as this server sees itself.
import { useState } from "react";
import type { Exchange, ServerInfo } from "../api/types";
import { useI18n } from "../i18n/I18nContext";

function ServerAddress({ info }: { info: ServerInfo | null }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const address = info?.outbound_address ?? null;
  const canCopy = address !== null && typeof navigator.clipboard?.writeText === "function";
  const copy = () => {
    if (!address) return;
    navigator.clipboard.writeText(address).then(
      () => setCopied(true),
      () => setCopied(false), // denied (permissions, insecure context): the address is on screen anyway
    );
  };
  return (
    <div className="server-address">
      <p className="server-address-label">{t("wizard.guide.serverAddress")}</p>
      {address ? (
        <p>
          <code className="address" data-testid="wizard-server-address">
            {address}
          </code>
          {canCopy ? (
            <button type="button" className="button button-small" onClick={copy} data-testid="wizard-copy-address">
              {t("wizard.guide.copy")}
            </button>
          ) : null}
          <span role="status" className="copied">
            {copied ? t("wizard.guide.copied") : ""}
          </span>
        </p>
      ) : (
        <p data-testid="wizard-server-address">{t("wizard.guide.addressUnknown")}</p>
      )}
      {info?.note ? <p className="field-hint">{info.note}</p> : null}
    </div>
  );
}

export function GuideStep({ exchange, serverInfo }: { exchange: Exchange; serverInfo: ServerInfo | null }) {
  const { t } = useI18n();
  const guide = exchange.guide;
  return (
    <div className="guide" data-testid="wizard-guide">
      <p>{t("wizard.guide.intro", { exchange: exchange.name })}</p>
      <h4 className="subheading">{t("wizard.guide.where")}</h4>
      <p data-testid="wizard-guide-where">{guide.where}</p>
      <div className="guide-columns">
        <section aria-labelledby="guide-enable">
          <h4 id="guide-enable" className="subheading">
            <span aria-hidden="true" className="glyph-ok">✓ </span>
            {t("wizard.guide.enable")}
          </h4>
          <ul data-testid="wizard-guide-enable">
            {guide.enable.map((item) => (
              <li key={item}>{item}</li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="guide-disable">
          <h4 id="guide-disable" className="subheading">
            <span aria-hidden="true" className="glyph-error">✕ </span>
            {t("wizard.guide.disable")}
          </h4>
          <ul data-testid="wizard-guide-disable">
            {guide.disable.map((item) => (
              <li key={item}>{item}</li>
            ))}
          </ul>
        </section>
      </div>
      <h4 className="subheading">{t("wizard.guide.ip")}</h4>
      <p data-testid="wizard-guide-ip">{guide.ip_whitelist}</p>
      <ServerAddress info={serverInfo} />
      {guide.notes.length > 0 ? (
        <>
          <h4 className="subheading">{t("wizard.guide.notes")}</h4>
          <ul data-testid="wizard-guide-notes">
            {guide.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}
