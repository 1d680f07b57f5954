// Labelled form fields: every input has a <label>, its hint and error are tied to it with
// aria-describedby, and an error sets aria-invalid.
import { useId, type InputHTMLAttributes, type ReactNode, type Ref } from "react";

interface FieldFrameProps {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  children: (ids: { inputId: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
  testId?: string;
}

function FieldFrame({ label, hint, error, children, testId }: FieldFrameProps) {
  const inputId = useId();
  const hintId = `${inputId}-hint`;
  const errorId = `${inputId}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className={error ? "field field-invalid" : "field"}>
      <label htmlFor={inputId}>{label}</label>
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
      {children({ inputId, describedBy, invalid: Boolean(error) })}
      {error ? (
        <p id={errorId} className="field-error" data-testid={testId ? `${testId}-error` : undefined}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

type NativeInput = Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "value" | "onChange" | "defaultValue">;

export interface TextFieldProps extends NativeInput {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  value: string;
  onValue: (value: string) => void;
  testId: string;
}

export function TextField({ label, hint, error, value, onValue, testId, ...rest }: TextFieldProps) {
  return (
    <FieldFrame label={label} hint={hint} error={error} testId={testId}>
      {({ inputId, describedBy, invalid }) => (
        <input
          {...rest}
          id={inputId}
          value={value}
          onChange={(e) => onValue(e.target.value)}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          data-testid={testId}
        />
      )}
    </FieldFrame>
  );
}

export interface SecretFieldProps {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  onValue: (value: string) => void;
  testId: string;
  /** Keys are shown as typed (to compare with the exchange's page); secrets and passphrases are masked. */
  masked: boolean;
  name: string;
  inputRef?: Ref<HTMLInputElement>;
}

/**
 * An uncontrolled input for key material: React never writes the value into the DOM (no value
 * attribute to find in the markup), and the text disappears with the element when the step or dialog
 * moves on. autocomplete/spellcheck are off so the browser neither stores nor sends it anywhere.
 */
export function SecretField({ label, hint, error, onValue, testId, masked, name, inputRef }: SecretFieldProps) {
  return (
    <FieldFrame label={label} hint={hint} error={error} testId={testId}>
      {({ inputId, describedBy, invalid }) => (
        <input
          ref={inputRef}
          id={inputId}
          name={name}
          type={masked ? "password" : "text"}
          // "off", not "new-password": the latter invites the browser to suggest a generated password.
          autoComplete="off"
          autoCapitalize="off"
          autoCorrect="off"
          spellCheck={false}
          onChange={(e) => onValue(e.target.value)}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          data-testid={testId}
          data-1p-ignore=""
          data-lpignore="true"
        />
      )}
    </FieldFrame>
  );
}

export interface SelectFieldProps {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  value: string;
  onValue: (value: string) => void;
  options: { value: string; label: string }[];
  testId: string;
}

export function SelectField({ label, hint, error, value, onValue, options, testId }: SelectFieldProps) {
  return (
    <FieldFrame label={label} hint={hint} error={error} testId={testId}>
      {({ inputId, describedBy, invalid }) => (
        <select
          id={inputId}
          value={value}
          onChange={(e) => onValue(e.target.value)}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          data-testid={testId}
        >
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </FieldFrame>
  );
}
