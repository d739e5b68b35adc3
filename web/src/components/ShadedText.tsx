/** Tokens shaded by an activation each: hover shows the value, the max token is outlined, tokens may be clickable. */
import { displayToken, fmtNumber } from "../lib/format";
import { scaleMax, shadeColor, shadeTextColor } from "../lib/shading";

interface Props {
  tokens: readonly string[];
  activations: readonly number[];
  /** Position to mark as the maximum (defaults to the argmax). */
  maxPosition?: number | null;
  /** Top of the colour scale (defaults to this row's max; pass the feature's max to compare rows). */
  scale?: number;
  onTokenClick?: (position: number) => void;
  selected?: number | null;
  label?: string;
  /** What a value is, for the hover text ("activation of #12", "features ≥ 1.5"). */
  valueName?: string;
}

function argmax(values: readonly number[]): number {
  let best = -1;
  let bestValue = 0;
  values.forEach((v, i) => {
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  });
  return best;
}

export function ShadedText({ tokens, activations, maxPosition, scale, onTokenClick, selected, label, valueName }: Props) {
  const top = scale && scale > 0 ? scale : scaleMax(activations);
  const maxAt = maxPosition ?? argmax(activations);
  return (
    <div className="tokens" role={label ? "group" : undefined} aria-label={label}>
      {tokens.map((tok, i) => {
        const value = activations[i] ?? 0;
        const style = { background: shadeColor(value, top), color: shadeTextColor(value, top) };
        const title = `${JSON.stringify(tok)} → ${valueName ? `${valueName}: ` : ""}${fmtNumber(value, 3)}`;
        const cls = `tok${i === maxAt && value > 0 ? " max" : ""}${selected === i ? " selected" : ""}`;
        return onTokenClick ? (
          <button key={i} type="button" className={cls} style={style} title={title} data-activation={value} aria-pressed={selected === i} onClick={() => onTokenClick(i)}>
            {displayToken(tok)}
          </button>
        ) : (
          <span key={i} className={cls} style={style} title={title} data-activation={value} data-testid={i === maxAt && value > 0 ? "max-token" : undefined}>
            {displayToken(tok)}
          </span>
        );
      })}
    </div>
  );
}
