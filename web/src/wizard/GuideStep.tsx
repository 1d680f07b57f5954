// Step 2: how to create a least-privilege key on this exchange (the server's guide, translated where this
// build knows the sentence), and the address to whitelist: this server's public address when the server
// could determine it, with a Copy button, else how to find it.
import { useState } from "react";
import type { Exchange, ServerInfo } from "../api/types";
import { useI18n } from "../i18n/I18nContext";
import { guideSetting, guideText, serverText } from "../i18n/server";
import "../trade/trade.css";

export function ServerAddress({ info }: { info: ServerInfo | null }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState<"no" | "yes" | "failed">("no");
  // An older server has no public_address: fall back to the outbound interface's address.
  const address = info ? (info.public_address !== undefined ? info.public_address : info.outbound_address) : null;
  const canCopy = address !== null && typeof navigator.clipboard?.writeText === "function";
  const copy = () => {
    if (!address) return;
    navigator.clipboard.writeText(address).then(
      () => setCopied("yes"),
      () => setCopied("failed"), // denied (permissions, insecure context): the address is on screen anyway
    );
  };
  const note = info?.public_address_note ?? info?.note ?? "";
  const noteText = serverText(t, info?.public_address_note_code, {}, note);
  return (
    <div className="server-address" data-testid="wizard-address-box">
      <p className="server-address-label">{t("wizard.guide.serverAddress")}</p>
      {address ? (
        <p className="address-line">
          <code className="address" data-testid="wizard-server-address">
            {address}
          </code>
          {canCopy ? (
            <button type="button" className="button button-small" onClick={copy} data-testid="wizard-copy-address">
              {t("wizard.guide.copy")}
            </button>
          ) : null}
          <span role="status" className="copied" data-testid="wizard-copy-status">
            {copied === "yes" ? t("wizard.guide.copied") : copied === "failed" ? t("wizard.guide.copyFailed") : ""}
          </span>
        </p>
      ) : (
        <p data-testid="wizard-server-address">{t("wizard.guide.addressUnknown")}</p>
      )}
      {noteText ? (
        <p className="field-hint" data-testid="wizard-address-note" data-code={info?.public_address_note_code ?? ""}>
          {noteText}
        </p>
      ) : null}
      {info?.public_address !== undefined && info.outbound_address ? (
        <p className="field-hint">{t("wizard.guide.localAddress", { address: info.outbound_address })}</p>
      ) : null}
    </div>
  );
}

export interface GuideStepProps {
  exchange: Exchange;
  serverInfo: ServerInfo | null;
  /** The key is for the exchange's testnet/demo account. */
  testnet?: boolean;
}

export function GuideStep({ exchange, serverInfo, testnet = false }: GuideStepProps) {
  const { t } = useI18n();
  const guide = exchange.guide;
  const text = (part: string, english: string) => guideText(t, exchange.id, part, english);
  return (
    <div className="guide" data-testid="wizard-guide">
      <p>{t("wizard.guide.intro", { exchange: exchange.name })}</p>
      <h4 className="subheading">{t("wizard.guide.where")}</h4>
      <p data-testid="wizard-guide-where">{text("where", guide.where)}</p>
      {testnet && exchange.testnet ? (
        <p className="note" data-testid="wizard-guide-testnet">
          <span className="tag tag-testnet">{t("wizard.testnet.tag")}</span>{" "}
          {t("wizard.testnet.guide", { exchange: exchange.name, environment: exchange.testnet })}
        </p>
      ) : null}
      <div className="guide-columns">
        <section aria-labelledby="guide-enable">
          <h4 id="guide-enable" className="subheading">
            <span aria-hidden="true" className="glyph-ok">✓ </span>
            {t("wizard.guide.enable")}
          </h4>
          <ul data-testid="wizard-guide-enable">
            {guide.enable.map((item) => (
              <li key={item}>{guideSetting(t, item)}</li>
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
              <li key={item}>{guideSetting(t, item)}</li>
            ))}
          </ul>
        </section>
      </div>
      <h4 className="subheading">{t("wizard.guide.ip")}</h4>
      <p data-testid="wizard-guide-ip">{text("ip", guide.ip_whitelist)}</p>
      <ServerAddress info={serverInfo} />
      {guide.notes.length > 0 ? (
        <>
          <h4 className="subheading">{t("wizard.guide.notes")}</h4>
          <ul data-testid="wizard-guide-notes">
            {guide.notes.map((note, i) => (
              <li key={note}>{text(`note${i}`, note)}</li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}
