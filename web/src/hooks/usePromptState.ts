/** The prompt analyser's state in the URL (text, shading, selected token, ranking), so a link reproduces the analysis. */
import { useCallback, useMemo } from "react";
import { parsePromptParams, promptParamUpdates, type PromptState } from "../lib/promptParams";
import { useUrlParams } from "./useUrlParams";

export function usePromptState() {
  const { params, update } = useUrlParams();
  const state = useMemo(() => parsePromptParams(params), [params]);
  /** Apply a change; history is replaced, so typing and toggling do not fill the back button. */
  const set = useCallback((change: Partial<PromptState>) => update(promptParamUpdates({ ...state, ...change }), { replace: true }), [state, update]);
  const toggleShadeFeature = useCallback(
    (index: number) => {
      const features = state.features.includes(index) ? state.features.filter((f) => f !== index) : [...state.features, index];
      set({ features, shade: features.length ? "features" : state.shade === "features" ? "max" : state.shade });
    },
    [state, set],
  );
  return { state, set, toggleShadeFeature };
}
