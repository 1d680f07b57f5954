// A labelled group of radio buttons shown as toggles (side, type, unit, paper/live).
import { useId } from "react";
import "./trade.css";

export interface ChoiceOption<V extends string> {
  value: V;
  label: string;
  hint?: string;
}

export interface ChoiceProps<V extends string> {
  legend: string;
  value: V;
  options: readonly ChoiceOption<V>[];
  onValue: (value: V) => void;
  testId: string;
  stacked?: boolean;
}

export function Choice<V extends string>({ legend, value, options, onValue, testId, stacked }: ChoiceProps<V>) {
  const name = useId();
  return (
    <fieldset className={stacked ? "choice choice-stacked" : "choice"} data-testid={testId} data-value={value}>
      <legend>{legend}</legend>
      <div className="choice-options">
        {options.map((option) => (
          <label key={option.value} className="choice-option" data-testid={`${testId}-${option.value}`}>
            <input
              type="radio"
              name={name}
              value={option.value}
              checked={value === option.value}
              onChange={() => onValue(option.value)}
            />
            <span>
              {option.label}
              {option.hint ? <span className="field-hint">{option.hint}</span> : null}
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
