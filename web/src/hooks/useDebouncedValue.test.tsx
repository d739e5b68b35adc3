import { act, renderHook } from "@testing-library/react";
import { useDebouncedValue } from "./useDebouncedValue";

describe("useDebouncedValue", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("only follows the value once it has been still for the delay", () => {
    const { result, rerender } = renderHook(({ v }) => useDebouncedValue(v, 300), { initialProps: { v: "a" } });
    expect(result.current).toBe("a");
    rerender({ v: "ab" });
    act(() => vi.advanceTimersByTime(200));
    rerender({ v: "abc" }); // typing again restarts the wait
    act(() => vi.advanceTimersByTime(200));
    expect(result.current).toBe("a");
    act(() => vi.advanceTimersByTime(100));
    expect(result.current).toBe("abc");
  });

  it("never emits the intermediate values of a burst", () => {
    const seen: string[] = [];
    const { rerender } = renderHook(({ v }) => {
      const d = useDebouncedValue(v, 300);
      if (seen.at(-1) !== d) seen.push(d);
      return d;
    }, { initialProps: { v: "" } });
    for (const v of ["c", "ca", "cat"]) {
      rerender({ v });
      act(() => vi.advanceTimersByTime(50));
    }
    act(() => vi.advanceTimersByTime(300));
    expect(seen).toEqual(["", "cat"]);
  });
});
